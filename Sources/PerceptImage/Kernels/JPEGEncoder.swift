import CTurboJPEG
import PerceptCore

/// Writes JPEG files in memory with TurboJPEG: RGB, grayscale or CMYK input, baseline or
/// progressive, so reports can save images and tests can build fixtures of every kind.
public enum JPEGEncoder {
    /// What each pixel of the input holds.
    public enum PixelLayout: Sendable {
        /// R, G, B bytes.
        case rgb
        /// One luminance byte; written as a one-component (grayscale) JPEG.
        case gray
        /// C, M, Y, K ink amounts (0 = no ink, 255 = full ink). TurboJPEG writes a YCCK JPEG with
        /// an Adobe segment, which by Adobe's convention stores the inverted values (255 − ink);
        /// this encoder inverts them, so `ImageDecoder` reads back R = (255 − C)(255 − K)/255.
        case cmyk

        var bytesPerPixel: Int {
            switch self {
            case .rgb: return 3
            case .gray: return 1
            case .cmyk: return 4
            }
        }
    }

    /// Chroma subsampling for RGB and CMYK input (grayscale has no chroma).
    public enum Subsampling: Sendable {
        /// No subsampling: best colour fidelity.
        case none444
        /// Half horizontal resolution for chroma.
        case half422
        /// Half horizontal and vertical resolution for chroma (the common camera default).
        case quarter420
    }

    /// Encodes `samples` (height × width × layout's bytes per pixel) at `quality` 1...100.
    public static func encode(width: Int, height: Int, samples: [UInt8], layout: PixelLayout, quality: Int = 90,
                              subsampling: Subsampling = .none444, progressive: Bool = false) throws -> [UInt8] {
        guard width > 0, height > 0, width <= 65_535, height <= 65_535 else {
            throw PerceptError.invalidArgument("JPEG size must be 1...65535 on each side, got \(width)×\(height)")
        }
        guard (1...100).contains(quality) else {
            throw PerceptError.invalidArgument("JPEG quality must be 1...100, got \(quality)")
        }
        guard samples.count == width * height * layout.bytesPerPixel else {
            throw PerceptError.invalidArgument(
                "JPEG \(width)×\(height) \(layout) needs \(width * height * layout.bytesPerPixel) bytes, got \(samples.count)")
        }
        guard let handle = tjInitCompress() else {
            throw PerceptError.invalidData("cannot start the JPEG encoder: \(ImageDecoder.message(nil))")
        }
        defer { tjDestroy(handle) }

        let pixelFormat: TJPF
        var chroma: TJSAMP
        switch subsampling {
        case .none444: chroma = TJSAMP_444
        case .half422: chroma = TJSAMP_422
        case .quarter420: chroma = TJSAMP_420
        }
        var input = samples
        switch layout {
        case .rgb: pixelFormat = TJPF_RGB
        case .gray: pixelFormat = TJPF_GRAY; chroma = TJSAMP_GRAY
        case .cmyk:
            pixelFormat = TJPF_CMYK
            for i in input.indices { input[i] = 255 - input[i] }  // Adobe's inverted storage
        }
        let flags = progressive ? TJFLAG_PROGRESSIVE : 0

        var output: UnsafeMutablePointer<UInt8>?
        var outputSize: UInt = 0
        let status = input.withUnsafeBufferPointer { buffer in
            tjCompress2(handle, buffer.baseAddress, Int32(width), 0, Int32(height), Int32(pixelFormat.rawValue),
                        &output, &outputSize, Int32(chroma.rawValue), Int32(quality), flags)
        }
        defer { tjFree(output) }
        guard status == 0, let output else {
            throw PerceptError.invalidData("cannot encode JPEG: \(ImageDecoder.message(handle))")
        }
        return Array(UnsafeBufferPointer(start: output, count: Int(outputSize)))
    }
}

extension Image {
    /// The image as a JPEG at `quality` 1...100, with 4:4:4 chroma (report images are small,
    /// colour fidelity matters more than bytes).
    public func jpegData(quality: Int = 90, progressive: Bool = false) throws -> [UInt8] {
        try JPEGEncoder.encode(width: width, height: height, samples: pixels, layout: .rgb, quality: quality,
                               subsampling: .none444, progressive: progressive)
    }
}
