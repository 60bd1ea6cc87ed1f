import Foundation

/// Float32 values as an ONNX tensor's `raw_data`: little-endian whatever the machine (the ONNX IR says so).
enum RawTensorData {
    static func bytes(_ values: [Float]) -> Data {
        var bytes = Data(capacity: values.count * 4)
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return bytes
    }
}
