import Foundation
import XCTest
import PerceptCore
import PerceptData
@testable import PerceptPreprocessing
import TestSupport
import PerceptModelKit

final class ImageFeaturesTests: XCTestCase {
    /// An RGB image of grey levels `value(x, y)`.
    private func greyImage(size: Int, _ value: (Int, Int) -> Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for y in 0..<size {
            for x in 0..<size {
                let v = UInt8(clamping: value(x, y))
                bytes += [v, v, v]
            }
        }
        return bytes
    }

    /// The centre cell of a 3×3-cell image: no border pixels, so every gradient is exact.
    private func centreCell(_ bytes: [UInt8], size: Int = 24) -> [Float] {
        let hog = HistogramOfOrientedGradients(cellSize: 8, orientations: 9, blockNormalization: false)
        let gray = bytes.withUnsafeBytes { HistogramOfOrientedGradients.luminance($0, height: size, width: size, channels: 3) }
        let cells = hog.cellHistograms(gray: gray, height: size, width: size)
        return Array(cells[(4 * 9)..<(5 * 9)])
    }

    func testBrightnessRisingToTheRightIsZeroDegrees() {
        // θ = 0° lies halfway between the bins centred at 170° (bin 8) and 10° (bin 0).
        let cell = centreCell(greyImage(size: 24) { x, _ in 10 * x })
        XCTAssertGreaterThan(cell[0], 0)
        assertClose(cell[0], cell[8], rtol: 1e-5)
        XCTAssertEqual(cell[1...7].reduce(0, +), 0)
        // Mean magnitude: central difference 20/255 for every pixel, half of it to each bin.
        assertClose(cell[0], 10 / 255, rtol: 1e-4)
    }

    func testBrightnessRisingDownwardIsNinetyDegrees() {
        let cell = centreCell(greyImage(size: 24) { _, y in 10 * y })
        XCTAssertGreaterThan(cell[4], 0)
        XCTAssertEqual(cell.enumerated().filter { $0.offset != 4 }.map(\.element).reduce(0, +), 0, accuracy: 1e-7)
        assertClose(cell[4], 20 / 255, rtol: 1e-4)
    }

    func testDiagonalRampIsFortyFiveDegrees() {
        // 45° sits 3/4 of the way from the 30° bin (1) to the 50° bin (2).
        let cell = centreCell(greyImage(size: 24) { x, y in 5 * (x + y) })
        assertClose(cell[2], 3 * cell[1], rtol: 1e-3)
        XCTAssertEqual(cell[0] + cell[3...].reduce(0, +), 0, accuracy: 1e-7)
        // And the opposite diagonal, rising to the left and downward, is 135°: bins 6 (130°) and 7 (150°).
        let other = centreCell(greyImage(size: 24) { x, y in 200 - 5 * x + 5 * y })
        assertClose(other[6], 3 * other[7], rtol: 1e-3)
    }

    func testFlatImageHasNoGradientsAndBlocksAreUnitLength() {
        let hog = HistogramOfOrientedGradients()
        let flat = greyImage(size: 32) { _, _ in 90 }
        let zeros = flat.withUnsafeBytes { hog.features(of: $0, height: 32, width: 32, channels: 3) }
        XCTAssertEqual(zeros.count, 324)
        XCTAssertEqual(zeros.reduce(0, +), 0)
        var random = SeededRandom(seed: 3)
        let noise = greyImage(size: 32) { _, _ in Int(random.next() % 256) }
        let blocks = noise.withUnsafeBytes { hog.features(of: $0, height: 32, width: 32, channels: 3) }
        for block in 0..<9 {
            let norm = blocks[(block * 36)..<((block + 1) * 36)].reduce(0) { $0 + $1 * $1 }.squareRoot()
            XCTAssertEqual(norm, 1, accuracy: 1e-3)
        }
        XCTAssertEqual(HistogramOfOrientedGradients(blockNormalization: false).dimension(height: 32, width: 32), 144)
    }

    func testHueHistogramOfKnownColours() {
        XCTAssertEqual(HueHistogram.hue(255, 0, 0), 0)
        assertClose(Double(HueHistogram.hue(0, 255, 0) ?? -1), 1.0 / 3, rtol: 1e-6)
        assertClose(Double(HueHistogram.hue(0, 0, 255) ?? -1), 2.0 / 3, rtol: 1e-6)
        XCTAssertNil(HueHistogram.hue(7, 7, 7))
        // Four pixels: red, green, blue, grey.
        let pixels: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 128, 128, 128]
        let histogram = pixels.withUnsafeBytes { HueHistogram(bins: 10).features(of: $0, height: 2, width: 2, channels: 3) }
        XCTAssertEqual(histogram, [0.25, 0, 0, 0.25, 0, 0, 0.25, 0, 0, 0])
    }

    func testExtractionConcatenatesAndDoesNotDependOnThreads() throws {
        var random = SeededRandom(seed: 9)
        let bytes = (0..<(6 * 32 * 32 * 3)).map { _ in UInt8(random.next() % 256) }
        let dataset = try Dataset(height: 32, width: 32, channels: 3, pixels: PixelStorage(copying: bytes),
                                  labels: [0, 1, 0, 1, 0, 1], classNames: ["a", "b"])
        let features = ImageFeatures.standardHOGColor
        XCTAssertEqual(features.dimension(height: 32, width: 32, channels: 3), 334)
        let one = try features.extract(from: dataset, threads: 1), two = try features.extract(from: dataset, threads: 2)
        XCTAssertEqual(one, two)
        XCTAssertEqual(one.shape, [6, 334])
        let single = dataset.pixels(at: 4)
        let hog = HistogramOfOrientedGradients().features(of: single, height: 32, width: 32, channels: 3)
        let hue = HueHistogram().features(of: single, height: 32, width: 32, channels: 3)
        XCTAssertEqual(Array(one.scalars[(4 * 334)..<(5 * 334)]), hog + hue)
        let reordered = try features.extract(from: dataset, order: [4], threads: 1)
        XCTAssertEqual(reordered.scalars, hog + hue)
        XCTAssertEqual(try ImageFeatures(name: "hog-color"), features)
        XCTAssertThrowsError(try ImageFeatures(name: "sift"))
        let tiny = try Dataset(height: 1, width: 2, channels: 1, pixels: PixelStorage(copying: [1, 2]),
                               labels: [0], classNames: ["a", "b"])
        XCTAssertThrowsError(try features.extract(from: tiny)) { XCTAssertTrue("\($0)".contains("hog-color")) }
    }
}

private func assertClose(_ actual: Float, _ expected: Float, rtol: Float, file: StaticString = #filePath, line: UInt = #line) {
    TestSupport.assertClose(Double(actual), Double(expected), rtol: Double(rtol), atol: 0, file: file, line: line)
}
