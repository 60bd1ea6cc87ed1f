import Foundation
import PerceptCore

/// An 8-bit RGB image: `height` rows of `width` pixels, each pixel three bytes R, G, B,
/// rows top to bottom. Every decoder in Percept produces this, whatever the file held
/// (grayscale, palette, 16-bit, alpha, CMYK), so everything downstream handles one layout.
public struct Image: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `height × width × 3` bytes, row-major, RGB interleaved.
    public var pixels: [UInt8]

    public static let channels = 3

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height * 3,
                     "Image: \(width)×\(height) needs \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A uniformly coloured image.
    public init(width: Int, height: Int, fill: (UInt8, UInt8, UInt8) = (0, 0, 0)) {
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for i in stride(from: 0, to: pixels.count, by: 3) {
            pixels[i] = fill.0; pixels[i + 1] = fill.1; pixels[i + 2] = fill.2
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    public var size: ImageSize { ImageSize(width: width, height: height) }

    /// The RGB value at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8) {
        get {
            let i = (y * width + x) * 3
            return (pixels[i], pixels[i + 1], pixels[i + 2])
        }
        set {
            let i = (y * width + x) * 3
            pixels[i] = newValue.r; pixels[i + 1] = newValue.g; pixels[i + 2] = newValue.b
        }
    }
}

/// A width and height in pixels, written `WxH` on the command line (`32x32`).
public struct ImageSize: Sendable, Hashable, Codable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Parses `"32x32"`, `"64X48"` or a single number `"32"` (square).
    public init(parsing text: String) throws {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        let numbers = parts.map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard (1...2).contains(numbers.count), numbers.allSatisfy({ ($0 ?? 0) > 0 && ($0 ?? 0) <= 16384 }),
              let width = numbers.first ?? nil, let height = numbers.last ?? nil else {
            throw PerceptError.invalidArgument(
                "'\(text)' is not an image size; write WIDTHxHEIGHT with positive numbers, e.g. 32x32")
        }
        self.init(width: width, height: height)
    }

    public var pixelCount: Int { width * height }
    public var description: String { "\(width)x\(height)" }
}

/// How an image is fitted to a model's input size when its aspect ratio differs.
public enum ResizeMode: String, Sendable, Codable, CaseIterable {
    /// Stretch or squeeze the whole image to the target size (keeps everything, distorts shapes).
    case squash
    /// Crop the largest centred region with the target's aspect ratio, then resize (keeps shapes).
    case centerCrop = "center-crop"
}

/// What a file says about itself, before or after decoding: for `dataset inspect`.
public struct ImageInfo: Sendable, Equatable, Codable {
    public var format: ImageFormat
    /// Stored size, before any EXIF rotation.
    public var width: Int
    public var height: Int
    /// e.g. "rgb", "gray", "gray+alpha", "rgba", "palette", "palette+transparency", "cmyk", "ycck".
    public var colorMode: String
    /// Bits per sample as stored (8 for JPEG; 1, 2, 4, 8 or 16 for PNG).
    public var bitDepth: Int
    /// Progressive JPEG or Adam7-interlaced PNG.
    public var progressive: Bool
    /// EXIF orientation 1...8 (1 = as stored); always 1 for PNG.
    public var orientation: Int

    public init(format: ImageFormat, width: Int, height: Int, colorMode: String,
                bitDepth: Int = 8, progressive: Bool = false, orientation: Int = 1) {
        self.format = format
        self.width = width
        self.height = height
        self.colorMode = colorMode
        self.bitDepth = bitDepth
        self.progressive = progressive
        self.orientation = orientation
    }
}

/// Image file formats Percept recognises by their first bytes (never by file extension:
/// a text file called `.jpg` must be reported as what it is).
public enum ImageFormat: String, Sendable, Codable, CaseIterable {
    case jpeg, png, gif, bmp, webp, tiff, unknown

    /// Whether Percept decodes this format.
    public var isDecodable: Bool { self == .jpeg || self == .png }

    /// Identifies a format from a file's leading bytes.
    public static func sniff<C: Collection>(_ bytes: C) -> ImageFormat where C.Element == UInt8 {
        let head = Array(bytes.prefix(12))
        func starts(_ magic: [UInt8]) -> Bool { head.count >= magic.count && Array(head.prefix(magic.count)) == magic }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(Array("GIF8".utf8)) { return .gif }
        if starts(Array("BM".utf8)) { return .bmp }
        if starts(Array("RIFF".utf8)), head.count >= 12, Array(head[8..<12]) == Array("WEBP".utf8) { return .webp }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        return .unknown
    }

    /// File name extensions that usually hold images, for listing folders.
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "jpe", "jfif", "png", "gif", "bmp",
                                                      "webp", "tif", "tiff"]
}
