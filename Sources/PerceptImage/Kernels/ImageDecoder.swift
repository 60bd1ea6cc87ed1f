import CTurboJPEG
import Foundation
import PerceptCore

/// Decodes JPEG and PNG files into `Image` (8-bit RGB, upright).
///
/// Not thread-safe: it keeps a TurboJPEG handle and scratch buffers for reuse across calls,
/// so create one per thread (or per task) and decode many files with it.
///
/// The format is identified from the bytes (`ImageFormat.sniff`), never from the file name.
/// Errors are `PerceptError`s naming `path`: `.unsupported` for other formats (GIF, BMP, WebP,
/// TIFF, text, empty files) and `.corrupt` for damaged or truncated data, with the codec
/// library's own reason.
public final class ImageDecoder {
    /// TurboJPEG decompressor, created on first JPEG and reused.
    private var jpegHandle: tjhandle?
    /// Reused for CMYK JPEG samples and RGBA PNG samples before conversion to RGB.
    var scratch: [UInt8] = []

    /// Images larger than this many pixels are refused rather than risking a huge allocation
    /// from a forged header (256 megapixels, e.g. 16384 × 16384).
    static let maximumPixelCount = 1 << 28

    public init() {}

    deinit {
        if let jpegHandle { tjDestroy(jpegHandle) }
    }

    /// Decodes a whole file's bytes. `path` is used only in error messages.
    public func decode(_ bytes: UnsafeRawBufferPointer, path: String) throws -> (image: Image, info: ImageInfo) {
        switch try decodableFormat(bytes, path: path) {
        case .jpeg: return try decodeJPEG(bytes, path: path)
        default: return try decodePNG(bytes, path: path)
        }
    }

    /// Decodes a whole file's bytes. `path` is used only in error messages.
    public func decode(_ bytes: [UInt8], path: String) throws -> (image: Image, info: ImageInfo) {
        try bytes.withUnsafeBytes { try decode($0, path: path) }
    }

    /// Reads only the header: format, stored size, colour mode, bit depth, progressive/interlaced
    /// and EXIF orientation. Much cheaper than `decode`; does not validate the image data.
    public func probe(_ bytes: UnsafeRawBufferPointer, path: String) throws -> ImageInfo {
        switch try decodableFormat(bytes, path: path) {
        case .jpeg: return try probeJPEG(bytes, path: path).info
        default: return try probePNG(bytes, path: path)
        }
    }

    /// The TurboJPEG decompressor, created once.
    func decompressor(path: String) throws -> tjhandle {
        if let jpegHandle { return jpegHandle }
        guard let handle = tjInitDecompress() else {
            throw PerceptError.io(path, "cannot start the JPEG decoder: \(String(cString: tjGetErrorStr2(nil)))")
        }
        jpegHandle = handle
        return handle
    }

    /// Throws unless the pixel count is sane; returns it.
    static func checkedPixelCount(width: Int, height: Int, path: String) throws -> Int {
        guard width > 0, height > 0 else {
            throw PerceptError.corrupt(path, "image has no pixels (\(width)×\(height))")
        }
        guard width <= maximumPixelCount / height else {
            throw PerceptError.unsupported(
                path, "image is too large (\(width)×\(height)); Percept decodes up to \(maximumPixelCount >> 20) megapixels")
        }
        return width * height
    }

    /// The sniffed format if Percept decodes it, else an `.unsupported` error saying what it is.
    private func decodableFormat(_ bytes: UnsafeRawBufferPointer, path: String) throws -> ImageFormat {
        guard !bytes.isEmpty else { throw PerceptError.unsupported(path, "empty file") }
        let format = ImageFormat.sniff(bytes)
        let advice = "convert to PNG or JPEG"
        switch format {
        case .jpeg, .png: return format
        case .gif: throw PerceptError.unsupported(path, "GIF images are not supported; \(advice)")
        case .bmp: throw PerceptError.unsupported(path, "BMP images are not supported; \(advice)")
        case .webp: throw PerceptError.unsupported(path, "WebP images are not supported; \(advice)")
        case .tiff: throw PerceptError.unsupported(path, "TIFF images are not supported; \(advice)")
        case .unknown:
            let looksLikeText = bytes.prefix(512).allSatisfy { $0 == 9 || $0 == 10 || $0 == 13 || (32..<127).contains($0) || $0 >= 0x80 }
            throw PerceptError.unsupported(
                path, looksLikeText ? "this is a text file, not an image (Percept reads PNG and JPEG)"
                                    : "not a PNG or JPEG image (unrecognised content)")
        }
    }
}

extension Image {
    /// Reads and decodes a PNG or JPEG file, upright (EXIF orientation applied).
    public init(contentsOfFile path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file (\(error.localizedDescription))"
                                                                      : "no such file"
            throw PerceptError.io(path, reason)
        }
        let decoded = try data.withUnsafeBytes { try ImageDecoder().decode($0, path: path) }
        self = decoded.image
    }
}
