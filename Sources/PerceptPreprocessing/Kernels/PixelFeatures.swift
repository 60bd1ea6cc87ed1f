import PerceptCore
import PerceptData

/// How pixel bytes become Float features.
public enum PixelScaling: String, Sendable, Codable, CaseIterable {
    /// 0…255, the byte values themselves: sums of absolute differences stay exact integers.
    case raw
    /// 0…1: the byte value divided by 255.
    case unitInterval = "unit"
}

extension Dataset {
    /// The images as an N×D Tensor of Float pixels (D = H·W·C, in the dataset's byte order):
    /// the features of the pixel-space models (nearest class mean, k-NN).
    public func pixelFeatures(scaling: PixelScaling = .unitInterval, threads: Int? = nil) -> Tensor {
        let n = count, d = imageByteCount
        let factor: Float = scaling == .raw ? 1 : 1 / 255
        var scalars = [Float](repeating: 0, count: n * d)
        scalars.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let output = buffer
            guard let source = pixels.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            Parallel.forEachChunk(count: n, threads: threads, minimumChunk: 64) { range in
                for i in (range.lowerBound * d)..<(range.upperBound * d) { output[i] = Float(source[i]) * factor }
            }
        }
        return Tensor(shape: [n, d], scalars: scalars)
    }
}
