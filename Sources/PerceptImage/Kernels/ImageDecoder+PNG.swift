import CPNGCodec
import PerceptCore

/// PNG decoding with libpng (through the CPNGCodec C target, which turns libpng's longjmp
/// errors into return codes).
extension ImageDecoder {
    func probePNG(_ bytes: UnsafeRawBufferPointer, path: String) throws -> ImageInfo {
        let header = try readPNGHeader(bytes, path: path)
        return Self.info(header)
    }

    func decodePNG(_ bytes: UnsafeRawBufferPointer, path: String) throws -> (image: Image, info: ImageInfo) {
        var header = try readPNGHeader(bytes, path: path)
        let (width, height) = (Int(header.width), Int(header.height))
        let pixelCount = try Self.checkedPixelCount(width: width, height: height, path: path)
        let channels = Int(header.output_channels)
        var message = [CChar](repeating: 0, count: 256)

        func decode(into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int32 {
            pngcodec_decode(bytes.baseAddress, bytes.count, buffer.baseAddress, pixelCount * channels,
                            &header, &message, message.count)
        }
        let pixels: [UInt8]
        if channels == 3 {
            var status: Int32 = 0
            pixels = [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { buffer, count in
                buffer.initialize(repeating: 0)  // libpng may stop part-way through on bad data
                status = decode(into: buffer)
                count = pixelCount * 3
            }
            guard status == 0 else { throw PerceptError.corrupt(path, "PNG data is damaged: \(Self.text(message))") }
        } else {
            if scratch.count < pixelCount * 4 { scratch = [UInt8](repeating: 0, count: pixelCount * 4) }
            let status = scratch.withUnsafeMutableBufferPointer { decode(into: $0) }
            guard status == 0 else { throw PerceptError.corrupt(path, "PNG data is damaged: \(Self.text(message))") }
            pixels = Self.compositeOnWhite(scratch, pixelCount: pixelCount)
        }
        return (Image(width: width, height: height, pixels: pixels), Self.info(header))
    }

    /// Flattens RGBA onto a white background, in 8-bit sRGB values (no linearisation):
    /// out = round(c·a/255 + 255·(1 − a/255)) = (c·a + 255·(255 − a) + 127) / 255 in integers.
    static func compositeOnWhite(_ rgba: [UInt8], pixelCount: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { out, count in
            rgba.withUnsafeBufferPointer { input in
                for p in 0..<pixelCount {
                    let alpha = Int(input[4 * p + 3])
                    let white = 255 * (255 - alpha) + 127
                    out[3 * p] = UInt8((Int(input[4 * p]) * alpha + white) / 255)
                    out[3 * p + 1] = UInt8((Int(input[4 * p + 1]) * alpha + white) / 255)
                    out[3 * p + 2] = UInt8((Int(input[4 * p + 2]) * alpha + white) / 255)
                }
            }
            count = pixelCount * 3
        }
    }

    private func readPNGHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws -> pngcodec_info {
        var header = pngcodec_info()
        var message = [CChar](repeating: 0, count: 256)
        guard pngcodec_read_info(bytes.baseAddress, bytes.count, &header, &message, message.count) == 0 else {
            throw PerceptError.corrupt(path, "bad PNG header: \(Self.text(message))")
        }
        return header
    }

    private static func info(_ header: pngcodec_info) -> ImageInfo {
        let transparency = header.has_trns != 0
        let colorMode: String
        switch header.color_type {
        case 0: colorMode = transparency ? "gray+transparency" : "gray"
        case 2: colorMode = transparency ? "rgb+transparency" : "rgb"
        case 3: colorMode = transparency ? "palette+transparency" : "palette"
        case 4: colorMode = "gray+alpha"
        default: colorMode = "rgba"
        }
        return ImageInfo(format: .png, width: Int(header.width), height: Int(header.height), colorMode: colorMode,
                         bitDepth: Int(header.bit_depth), progressive: header.interlaced != 0, orientation: 1)
    }

    private static func text(_ message: [CChar]) -> String {
        let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return bytes.isEmpty ? "unknown error" : String(decoding: bytes, as: UTF8.self)
    }
}
