import CTurboJPEG
import PerceptCore

/// JPEG decoding with TurboJPEG (libjpeg-turbo 2.1).
extension ImageDecoder {
    struct JPEGHeader {
        var info: ImageInfo
        var markers: JPEGMarkers
        var colorspace: Int32
    }

    func probeJPEG(_ bytes: UnsafeRawBufferPointer, path: String) throws -> JPEGHeader {
        let handle = try decompressor(path: path)
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw PerceptError.unsupported(path, "empty file")
        }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        // A warning here (e.g. stray bytes between segments) still yields a header; decoding
        // decides later whether the warnings matter (see checkDecompression).
        let status = tjDecompressHeader3(handle, base, UInt(bytes.count), &width, &height, &subsampling, &colorspace)
        if status != 0 && (tjGetErrorCode(handle) == Int32(TJERR_FATAL.rawValue) || width <= 0 || height <= 0) {
            throw PerceptError.corrupt(path, "bad JPEG header: \(Self.message(handle))")
        }
        let markers = JPEGMarkers(bytes)
        let colorMode: String
        switch colorspace {
        case Int32(TJCS_GRAY.rawValue): colorMode = "gray"
        case Int32(TJCS_CMYK.rawValue): colorMode = "cmyk"
        case Int32(TJCS_YCCK.rawValue): colorMode = "ycck"
        default: colorMode = "rgb"
        }
        let orientation = markers.exifPayload.map { EXIFOrientation.read(fromAPP1: UnsafeRawBufferPointer(rebasing: bytes[$0])) } ?? 1
        let info = ImageInfo(format: .jpeg, width: Int(width), height: Int(height), colorMode: colorMode,
                             bitDepth: 8, progressive: markers.progressive, orientation: orientation)
        return JPEGHeader(info: info, markers: markers, colorspace: colorspace)
    }

    func decodeJPEG(_ bytes: UnsafeRawBufferPointer, path: String) throws -> (image: Image, info: ImageInfo) {
        let header = try probeJPEG(bytes, path: path)
        let handle = try decompressor(path: path)
        let (width, height) = (header.info.width, header.info.height)
        let pixelCount = try Self.checkedPixelCount(width: width, height: height, path: path)
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            throw PerceptError.unsupported(path, "empty file")
        }
        let isCMYK = header.colorspace == Int32(TJCS_CMYK.rawValue) || header.colorspace == Int32(TJCS_YCCK.rawValue)

        var pixels: [UInt8]
        if isCMYK {
            // libjpeg turns YCCK into CMYK but leaves CMYK → RGB to us.
            if scratch.count < pixelCount * 4 { scratch = [UInt8](repeating: 0, count: pixelCount * 4) }
            let status = scratch.withUnsafeMutableBufferPointer { buffer in
                tjDecompress2(handle, base, UInt(bytes.count), buffer.baseAddress, Int32(width), 0, Int32(height),
                              Int32(TJPF_CMYK.rawValue), 0)
            }
            try checkDecompression(status, handle: handle, bytes: bytes, path: path)
            pixels = Self.rgb(fromCMYK: scratch, pixelCount: pixelCount, adobeInverted: header.markers.adobe)
        } else {
            // Gray and YCbCr both decode straight to RGB (libjpeg replicates gray).
            var status: Int32 = 0
            pixels = [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { buffer, count in
                status = tjDecompress2(handle, base, UInt(bytes.count), buffer.baseAddress, Int32(width), 0,
                                       Int32(height), Int32(TJPF_RGB.rawValue), 0)
                // After a fatal error the buffer may be partly written; it is thrown away, but
                // must still be initialised. After a mere warning it holds the picture.
                if status != 0 && tjGetErrorCode(handle) == Int32(TJERR_FATAL.rawValue) { buffer.initialize(repeating: 0) }
                count = pixelCount * 3
            }
            try checkDecompression(status, handle: handle, bytes: bytes, path: path)
        }
        let stored = Image(width: width, height: height, pixels: pixels)
        return (stored.applyingEXIFOrientation(header.info.orientation), header.info)
    }

    /// TurboJPEG returns -1 for errors and also for warnings. Errors are fatal. Warnings are
    /// tolerated (real cameras write e.g. "extraneous bytes before marker") except when the data
    /// ends early: libjpeg then pads the picture with grey, which must not pass as a real image.
    private func checkDecompression(_ status: Int32, handle: tjhandle, bytes: UnsafeRawBufferPointer,
                                    path: String) throws {
        guard status != 0 else { return }
        let message = Self.message(handle)
        if tjGetErrorCode(handle) == Int32(TJERR_FATAL.rawValue) {
            throw PerceptError.corrupt(path, "JPEG data is damaged: \(message)")
        }
        if message.lowercased().contains("premature end") || !JPEGMarkers.reachesEndOfImage(bytes) {
            throw PerceptError.corrupt(path, "JPEG file is truncated: \(message)")
        }
    }

    /// CMYK → RGB without colour management: R = (1 − C)(1 − K), likewise G from M and B from Y,
    /// in 0...255 with rounding. Files with an Adobe APP14 segment (Photoshop, and TurboJPEG's own
    /// encoder) store inverted samples (255 = no ink), so there R = round(C'·K'/255) on the stored
    /// C', K'; without it, R = round((255 − C)(255 − K)/255).
    static func rgb(fromCMYK cmyk: [UInt8], pixelCount: Int, adobeInverted: Bool) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: pixelCount * 3) { out, count in
            cmyk.withUnsafeBufferPointer { input in
                for p in 0..<pixelCount {
                    var c = Int(input[4 * p]), m = Int(input[4 * p + 1])
                    var y = Int(input[4 * p + 2]), k = Int(input[4 * p + 3])
                    if !adobeInverted { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k }
                    // (x·k + 127) / 255 is x·k/255 rounded to nearest (255 is odd, so no ties).
                    out[3 * p] = UInt8((c * k + 127) / 255)
                    out[3 * p + 1] = UInt8((m * k + 127) / 255)
                    out[3 * p + 2] = UInt8((y * k + 127) / 255)
                }
            }
            count = pixelCount * 3
        }
    }

    static func message(_ handle: tjhandle?) -> String {
        guard let text = tjGetErrorStr2(handle) else { return "unknown error" }
        return String(cString: text)
    }
}
