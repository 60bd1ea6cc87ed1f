import CPNGCodec
import PerceptCore

/// Writes PNG files in memory with libpng, in any colour type and bit depth, so reports can
/// save images and tests can build fixtures of every kind the decoder reads.
public enum PNGEncoder {
    /// PNG colour types (the raw values are the IHDR codes).
    public enum ColorType: Int32, Sendable, CaseIterable {
        case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6

        /// Samples per pixel.
        public var channels: Int {
            switch self {
            case .gray, .palette: return 1
            case .grayAlpha: return 2
            case .rgb: return 3
            case .rgba: return 4
            }
        }

        /// Bit depths the PNG specification allows for this colour type.
        public var allowedBitDepths: [Int] {
            switch self {
            case .gray: return [1, 2, 4, 8, 16]
            case .palette: return [1, 2, 4, 8]
            case .rgb, .grayAlpha, .rgba: return [8, 16]
            }
        }
    }

    /// Encodes `samples` (height × width × channels values, rows top to bottom, each value in
    /// 0 ..< 2^bitDepth; for `.palette`, indices into `palette`).
    ///
    /// - `palette`: flat RGB triples, 1...256 entries (required for `.palette`, else ignored).
    /// - `transparency`: the tRNS chunk — for `.palette` one alpha (0...255) per leading palette
    ///   entry; for `.gray` one gray value; for `.rgb` three values R, G, B (in the image's bit
    ///   depth) that mean "fully transparent"; empty for none.
    /// - `interlaced`: Adam7 interlacing.
    public static func encode(width: Int, height: Int, colorType: ColorType, bitDepth: Int, samples: [UInt16],
                              palette: [UInt8] = [], transparency: [UInt16] = [],
                              interlaced: Bool = false) throws -> [UInt8] {
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw PerceptError.invalidArgument("PNG size must be positive, got \(width)×\(height)")
        }
        guard colorType.allowedBitDepths.contains(bitDepth) else {
            throw PerceptError.invalidArgument("PNG \(colorType) images cannot have bit depth \(bitDepth); "
                                               + "allowed: \(colorType.allowedBitDepths)")
        }
        let channels = colorType.channels
        guard samples.count == width * height * channels else {
            throw PerceptError.invalidArgument(
                "PNG \(width)×\(height) \(colorType) needs \(width * height * channels) samples, got \(samples.count)")
        }
        let limit = colorType == .palette ? palette.count / 3 : 1 << bitDepth
        if let bad = samples.first(where: { Int($0) >= limit }) {
            throw PerceptError.invalidArgument("PNG sample \(bad) does not fit \(colorType) at bit depth \(bitDepth)")
        }
        // Pack each row: samples MSB-first within bytes below 8 bits, big-endian at 16 bits.
        let samplesPerRow = width * channels
        let rowBytes = (samplesPerRow * bitDepth + 7) / 8
        var rows = [UInt8](repeating: 0, count: rowBytes * height)
        for y in 0..<height {
            let rowStart = y * rowBytes
            for s in 0..<samplesPerRow {
                let value = samples[y * samplesPerRow + s]
                switch bitDepth {
                case 16:
                    rows[rowStart + 2 * s] = UInt8(value >> 8)
                    rows[rowStart + 2 * s + 1] = UInt8(value & 0xFF)
                case 8:
                    rows[rowStart + s] = UInt8(value)
                default:
                    let bit = s * bitDepth
                    let shift = 8 - bitDepth - bit % 8
                    rows[rowStart + bit / 8] |= UInt8(value) << shift
                }
            }
        }
        return try encodePacked(width: width, height: height, colorType: colorType, bitDepth: bitDepth, rows: rows,
                                rowBytes: rowBytes, palette: palette, transparency: transparency, interlaced: interlaced)
    }

    /// Encodes rows already in PNG byte layout.
    static func encodePacked(width: Int, height: Int, colorType: ColorType, bitDepth: Int, rows: [UInt8], rowBytes: Int,
                             palette: [UInt8], transparency: [UInt16], interlaced: Bool) throws -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>?
        var outputSize = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = rows.withUnsafeBufferPointer { rowBuffer in
            palette.withUnsafeBufferPointer { paletteBuffer in
                transparency.withUnsafeBufferPointer { transparencyBuffer in
                    pngcodec_encode(UInt32(width), UInt32(height), colorType.rawValue, Int32(bitDepth),
                                    rowBuffer.baseAddress, rowBytes, paletteBuffer.baseAddress, Int32(palette.count / 3),
                                    transparencyBuffer.baseAddress, Int32(transparency.count), interlaced ? 1 : 0,
                                    &output, &outputSize, &message, message.count)
                }
            }
        }
        defer { pngcodec_free(output) }
        guard status == 0, let output else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw PerceptError.invalidArgument("cannot encode PNG: \(reason)")
        }
        return Array(UnsafeBufferPointer(start: output, count: outputSize))
    }
}

extension Image {
    /// The image as an 8-bit RGB PNG, non-interlaced.
    public func pngData() throws -> [UInt8] {
        try PNGEncoder.encodePacked(width: width, height: height, colorType: .rgb, bitDepth: 8, rows: pixels,
                                    rowBytes: width * 3, palette: [], transparency: [], interlaced: false)
    }
}
