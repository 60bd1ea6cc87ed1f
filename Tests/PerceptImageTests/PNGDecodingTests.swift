import PerceptCore
import PerceptImage
import XCTest

/// Every PNG colour type × bit depth, decoded to 8-bit RGB and checked value by value against
/// an independent statement of the rules: 16-bit → round(v·255/65535); low bit depths scaled to
/// 0...255; gray replicated; alpha composited on white: round(c·a/255 + 255·(1 − a/255)).
final class PNGDecodingTests: XCTestCase {
    let width = 7, height = 5
    let decoder = ImageDecoder()

    /// v at `depth` bits as an 8-bit value.
    func to8(_ v: UInt16, _ depth: Int) -> Int {
        depth == 16 ? Int((Double(v) * 255 / 65535).rounded()) : Int(v) * 255 / ((1 << depth) - 1)
    }

    func onWhite(_ c: Int, _ a: Int) -> UInt8 {
        UInt8((Double(c) * Double(a) / 255 + 255 * (1 - Double(a) / 255)).rounded())
    }

    /// Samples spread over the whole range of `depth` bits, differing per pixel and channel.
    func samples(count: Int, depth: Int, limit: Int? = nil) -> [UInt16] {
        let top = limit ?? (1 << depth)
        let special: [UInt16] = depth == 16 ? [0, 128, 129, 257, 385, 386, 32767, 32768, 65534, 65535] : []
        return (0..<count).map { i in i < special.count ? special[i] : UInt16((i * 2_654_435 + i / 3) % top) }
    }

    func decode(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> (Image, ImageInfo) {
        let result = try decoder.decode(bytes, path: "fixture.png")
        XCTAssertEqual(result.image.width, width, file: file, line: line)
        XCTAssertEqual(result.image.height, height, file: file, line: line)
        return (result.image, result.info)
    }

    func assertPixels(_ image: Image, _ expected: (Int) -> (UInt8, UInt8, UInt8), _ label: String,
                      file: StaticString = #filePath, line: UInt = #line) {
        for p in 0..<width * height {
            let got = image[p % width, p / width]
            let want = expected(p)
            XCTAssertTrue(got == want, "\(label) pixel \(p): got \(got), want \(want)", file: file, line: line)
            if got != want { return }
        }
    }

    func testGrayAllBitDepths() throws {
        for depth in [1, 2, 4, 8, 16] {
            let values = samples(count: width * height, depth: depth)
            for interlaced in [false, true] {
                let png = try PNGEncoder.encode(width: width, height: height, colorType: .gray, bitDepth: depth,
                                                samples: values, interlaced: interlaced)
                let (image, info) = try decode(png)
                assertPixels(image, { p in let g = UInt8(self.to8(values[p], depth)); return (g, g, g) }, "gray \(depth)")
                XCTAssertEqual(info, ImageInfo(format: .png, width: width, height: height, colorMode: "gray",
                                               bitDepth: depth, progressive: interlaced, orientation: 1))
            }
        }
    }

    func testSixteenBitRoundsToNearest() throws {
        // 128/257 = 0.498 → 0 and 129/257 = 0.502 → 1 (truncation or v >> 8 would give 0 for both).
        let values: [UInt16] = [128, 129, 385, 386, 65535, 32896, 32895]
        let png = try PNGEncoder.encode(width: values.count, height: 1, colorType: .gray, bitDepth: 16, samples: values)
        let image = try decoder.decode(png, path: "g16.png").image
        XCTAssertEqual(stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] }, [0, 1, 1, 2, 255, 128, 128])
    }

    func testGrayAlpha() throws {
        for depth in [8, 16] {
            let values = samples(count: width * height * 2, depth: depth)
            let png = try PNGEncoder.encode(width: width, height: height, colorType: .grayAlpha, bitDepth: depth,
                                            samples: values)
            let (image, info) = try decode(png)
            assertPixels(image, { p in
                let g = self.onWhite(self.to8(values[2 * p], depth), self.to8(values[2 * p + 1], depth))
                return (g, g, g)
            }, "gray+alpha \(depth)")
            XCTAssertEqual(info.colorMode, "gray+alpha")
            XCTAssertEqual(info.bitDepth, depth)
        }
        // Hand-computed: gray 100 at alpha 51 → 100·0.2 + 255·0.8 = 224; gray 0 at alpha 128 → 127.
        let png = try PNGEncoder.encode(width: 3, height: 1, colorType: .grayAlpha, bitDepth: 8,
                                        samples: [100, 51, 0, 128, 77, 0])
        XCTAssertEqual(try decoder.decode(png, path: "ga.png").image.pixels, [224, 224, 224, 127, 127, 127, 255, 255, 255])
    }

    func testPaletteWithAndWithoutTransparency() throws {
        for depth in [1, 2, 4, 8] {
            let entries = min(1 << depth, 200)
            let palette = (0..<entries * 3).map { UInt8(($0 * 67 + 13) % 256) }
            let indices = samples(count: width * height, depth: depth, limit: entries)
            let alphas: [UInt16] = Array([0, 128, 255, 10, 200].prefix(entries))
            for transparency in [[], alphas] {
                let png = try PNGEncoder.encode(width: width, height: height, colorType: .palette, bitDepth: depth,
                                                samples: indices, palette: palette, transparency: transparency)
                let (image, info) = try decode(png)
                assertPixels(image, { p in
                    let i = Int(indices[p])
                    let a = i < transparency.count ? Int(transparency[i]) : 255
                    return (self.onWhite(Int(palette[3 * i]), a), self.onWhite(Int(palette[3 * i + 1]), a),
                            self.onWhite(Int(palette[3 * i + 2]), a))
                }, "palette \(depth) tRNS \(transparency.count)")
                XCTAssertEqual(info.colorMode, transparency.isEmpty ? "palette" : "palette+transparency")
                XCTAssertEqual(info.bitDepth, depth)
            }
        }
        // Hand-computed: entry (200, 100, 50) at alpha 128 on white → (227, 177, 152); alpha 0 → white.
        let png = try PNGEncoder.encode(width: 3, height: 1, colorType: .palette, bitDepth: 8, samples: [0, 1, 2],
                                        palette: [200, 100, 50, 1, 2, 3, 9, 8, 7], transparency: [128, 0])
        XCTAssertEqual(try decoder.decode(png, path: "p.png").image.pixels, [227, 177, 152, 255, 255, 255, 9, 8, 7])
    }

    func testRGBAndRGBA() throws {
        for depth in [8, 16] {
            let rgb = samples(count: width * height * 3, depth: depth)
            let png = try PNGEncoder.encode(width: width, height: height, colorType: .rgb, bitDepth: depth, samples: rgb)
            let (image, info) = try decode(png)
            assertPixels(image, { p in
                (UInt8(self.to8(rgb[3 * p], depth)), UInt8(self.to8(rgb[3 * p + 1], depth)),
                 UInt8(self.to8(rgb[3 * p + 2], depth)))
            }, "rgb \(depth)")
            XCTAssertEqual(info.colorMode, "rgb")

            let rgba = samples(count: width * height * 4, depth: depth)
            let pngA = try PNGEncoder.encode(width: width, height: height, colorType: .rgba, bitDepth: depth, samples: rgba)
            let (imageA, infoA) = try decode(pngA)
            assertPixels(imageA, { p in
                let a = self.to8(rgba[4 * p + 3], depth)
                return (self.onWhite(self.to8(rgba[4 * p], depth), a), self.onWhite(self.to8(rgba[4 * p + 1], depth), a),
                        self.onWhite(self.to8(rgba[4 * p + 2], depth), a))
            }, "rgba \(depth)")
            XCTAssertEqual(infoA.colorMode, "rgba")
            XCTAssertEqual(infoA.bitDepth, depth)
        }
    }

    func testTransparencyKeyOnGrayAndRGB() throws {
        let gray = try PNGEncoder.encode(width: 3, height: 1, colorType: .gray, bitDepth: 8, samples: [10, 20, 30],
                                         transparency: [20])
        let (grayImage, grayInfo) = try decoder.decode(gray, path: "g.png")
        XCTAssertEqual(grayImage.pixels, [10, 10, 10, 255, 255, 255, 30, 30, 30])
        XCTAssertEqual(grayInfo.colorMode, "gray+transparency")

        let rgb = try PNGEncoder.encode(width: 2, height: 1, colorType: .rgb, bitDepth: 16,
                                        samples: [1000, 2000, 3000, 65535, 0, 32768], transparency: [1000, 2000, 3000])
        let (rgbImage, rgbInfo) = try decoder.decode(rgb, path: "rgb.png")
        XCTAssertEqual(rgbImage.pixels, [255, 255, 255, 255, 0, 128])
        XCTAssertEqual(rgbInfo.colorMode, "rgb+transparency")
    }

    func testInterlacedEqualsNonInterlaced() throws {
        // 13×11 is not a multiple of 8, so every Adam7 pass has ragged edges.
        let (w, h) = (13, 11)
        let cases: [(PNGEncoder.ColorType, Int)] = [(.gray, 1), (.gray, 4), (.gray, 16), (.grayAlpha, 8), (.palette, 2),
                                                    (.rgb, 8), (.rgb, 16), (.rgba, 16)]
        for (colorType, depth) in cases {
            let limit = colorType == .palette ? 4 : nil
            let values = samples(count: w * h * colorType.channels, depth: depth, limit: limit)
            let palette: [UInt8] = colorType == .palette ? [0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255] : []
            let plain = try PNGEncoder.encode(width: w, height: h, colorType: colorType, bitDepth: depth, samples: values,
                                              palette: palette)
            let adam7 = try PNGEncoder.encode(width: w, height: h, colorType: colorType, bitDepth: depth, samples: values,
                                              palette: palette, interlaced: true)
            XCTAssertNotEqual(plain, adam7)
            let a = try decoder.decode(plain, path: "plain.png"), b = try decoder.decode(adam7, path: "adam7.png")
            XCTAssertEqual(a.image, b.image, "\(colorType) \(depth)")
            XCTAssertFalse(a.info.progressive)
            XCTAssertTrue(b.info.progressive)
        }
    }

    func testImagePNGDataRoundTripsExactly() throws {
        let image = Fixtures.noise(width: 9, height: 6)
        XCTAssertEqual(try decoder.decode(try image.pngData(), path: "rt.png").image, image)
    }

    func testProbeReadsHeaderOnly() throws {
        let png = try PNGEncoder.encode(width: 40, height: 30, colorType: .palette, bitDepth: 4,
                                        samples: [UInt16](repeating: 1, count: 1200), palette: [UInt8](repeating: 7, count: 6),
                                        transparency: [0], interlaced: true)
        let expected = ImageInfo(format: .png, width: 40, height: 30, colorMode: "palette+transparency", bitDepth: 4,
                                 progressive: true, orientation: 1)
        // The header alone (IHDR and PLTE/tRNS, image data cut off) is enough for probe, not for decode.
        let headerOnly = Array(png.prefix(png.count - 20))
        XCTAssertEqual(try headerOnly.withUnsafeBytes { try decoder.probe($0, path: "p.png") }, expected)
        XCTAssertThrowsError(try decoder.decode(headerOnly, path: "p.png"))
        XCTAssertEqual(try decoder.decode(png, path: "p.png").info, expected)
    }

    func testEncoderRejectsBadArguments() {
        XCTAssertThrowsError(try PNGEncoder.encode(width: 1, height: 1, colorType: .rgb, bitDepth: 4, samples: [0, 0, 0]))
        XCTAssertThrowsError(try PNGEncoder.encode(width: 1, height: 1, colorType: .gray, bitDepth: 2, samples: [4]))
        XCTAssertThrowsError(try PNGEncoder.encode(width: 2, height: 1, colorType: .gray, bitDepth: 8, samples: [4]))
        XCTAssertThrowsError(try PNGEncoder.encode(width: 1, height: 1, colorType: .palette, bitDepth: 8, samples: [1],
                                                   palette: [0, 0, 0]))
    }
}
