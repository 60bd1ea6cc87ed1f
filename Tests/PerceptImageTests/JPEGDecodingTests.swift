import PerceptCore
@testable import PerceptImage
import XCTest

/// JPEG is lossy: decoded pixels are compared with the source within a stated tolerance.
/// Smooth content at quality 95 with 4:4:4 chroma must come back with mean absolute error < 3.
final class JPEGDecodingTests: XCTestCase {
    let decoder = ImageDecoder()

    func testBaselineRGB() throws {
        let source = Fixtures.gradient()
        let jpeg = try JPEGEncoder.encode(width: 32, height: 32, samples: source.pixels, layout: .rgb, quality: 95)
        let (image, info) = try decoder.decode(jpeg, path: "baseline.jpg")
        XCTAssertEqual(image.size, source.size)
        XCTAssertLessThan(Fixtures.meanAbsoluteError(image, source), 3)
        XCTAssertEqual(info, ImageInfo(format: .jpeg, width: 32, height: 32, colorMode: "rgb", bitDepth: 8,
                                       progressive: false, orientation: 1))
    }

    func testProgressiveRGB() throws {
        let source = Fixtures.gradient(width: 40, height: 24)
        let jpeg = try source.jpegData(quality: 95, progressive: true)
        let (image, info) = try decoder.decode(jpeg, path: "progressive.jpg")
        XCTAssertLessThan(Fixtures.meanAbsoluteError(image, source), 3)
        XCTAssertTrue(info.progressive)
        XCTAssertEqual(info.colorMode, "rgb")
        XCTAssertEqual(try jpeg.withUnsafeBytes { try decoder.probe($0, path: "progressive.jpg") }, info)
    }

    func testGrayscale() throws {
        let luminance = (0..<24 * 16).map { UInt8(($0 % 24) * 10) }
        let jpeg = try JPEGEncoder.encode(width: 24, height: 16, samples: luminance, layout: .gray, quality: 95)
        let (image, info) = try decoder.decode(jpeg, path: "gray.jpg")
        XCTAssertEqual(info.colorMode, "gray")
        let expected = Image(width: 24, height: 16, pixels: luminance.flatMap { [$0, $0, $0] })
        XCTAssertLessThan(Fixtures.meanAbsoluteError(image, expected), 3)
        for p in 0..<24 * 16 {  // gray replicated exactly into R, G, B
            XCTAssertEqual(image.pixels[3 * p], image.pixels[3 * p + 1])
            XCTAssertEqual(image.pixels[3 * p], image.pixels[3 * p + 2])
        }
    }

    func testCMYKFlatColor() throws {
        // Inks C 20 %, M 40 %, Y 0 %, K 20 % (51, 102, 0, 51):
        // R = 204·204/255 = 163.2, G = 153·204/255 = 122.4, B = 255·204/255 = 204.
        let inks = [UInt8]([51, 102, 0, 51])
        let jpeg = try JPEGEncoder.encode(width: 16, height: 16, samples: Array((0..<256).map { _ in inks }.joined()),
                                          layout: .cmyk, quality: 95)
        let (image, info) = try decoder.decode(jpeg, path: "cmyk.jpg")
        XCTAssertEqual(info.colorMode, "ycck")  // TurboJPEG stores CMYK input as YCCK
        for p in 0..<256 {
            XCTAssertEqual(Double(image.pixels[3 * p]), 163, accuracy: 2)
            XCTAssertEqual(Double(image.pixels[3 * p + 1]), 122, accuracy: 2)
            XCTAssertEqual(Double(image.pixels[3 * p + 2]), 204, accuracy: 2)
        }
    }

    func testCMYKConversionFormula() {
        // Without an Adobe segment samples are ink amounts; with one they are inverted.
        XCTAssertEqual(ImageDecoder.rgb(fromCMYK: [51, 102, 0, 51, 0, 0, 0, 255], pixelCount: 2, adobeInverted: false),
                       [163, 122, 204, 0, 0, 0])
        XCTAssertEqual(ImageDecoder.rgb(fromCMYK: [204, 153, 255, 204, 255, 255, 255, 255], pixelCount: 2,
                                        adobeInverted: true),
                       [163, 122, 204, 255, 255, 255])
    }

    func testProbeReadsHeaderOnly() throws {
        let jpeg = try JPEGEncoder.encode(width: 48, height: 20, samples: Fixtures.noise(width: 48, height: 20).pixels,
                                          layout: .rgb, quality: 80, subsampling: .quarter420, progressive: true)
        let expected = ImageInfo(format: .jpeg, width: 48, height: 20, colorMode: "rgb", bitDepth: 8, progressive: true,
                                 orientation: 1)
        // Half the file: the header is intact, the image data is not. Probe succeeds, decode refuses.
        let half = Array(jpeg.prefix(jpeg.count / 2))
        XCTAssertEqual(try half.withUnsafeBytes { try decoder.probe($0, path: "half.jpg") }, expected)
        XCTAssertThrowsError(try decoder.decode(half, path: "half.jpg"))
        XCTAssertEqual(try decoder.decode(jpeg, path: "whole.jpg").info, expected)
    }

    func testEncoderRejectsBadArguments() {
        XCTAssertThrowsError(try JPEGEncoder.encode(width: 2, height: 2, samples: [0, 0, 0], layout: .rgb))
        XCTAssertThrowsError(try JPEGEncoder.encode(width: 1, height: 1, samples: [0, 0, 0], layout: .rgb, quality: 0))
    }
}
