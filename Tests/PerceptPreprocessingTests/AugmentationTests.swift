import XCTest
import PerceptCore
import PerceptPreprocessing
import TestSupport

/// The random draws of augmentation, checked over many draws: every value of each range is hit,
/// none outside, flips are balanced — so a range one pixel short, or a cutout centre moved by
/// half the patch, fails here.
final class AugmentationTests: XCTestCase {
    private let draws = 1_000

    /// `draws` transforms drawn as the batch pipeline draws them: one seeded stream per image.
    private func transforms(_ augmentation: Augmentation, height: Int, width: Int, seed: UInt64 = 42) -> [ImageTransform] {
        (0..<draws).map { index in
            var random = SeededRandom.stream(seed: seed, index: index)
            return augmentation.transform(height: height, width: width, random: &random)
        }
    }

    /// Fails unless |share − ½| < 4σ of a fair coin over `count` tosses.
    private func assertBalanced(_ heads: Int, of count: Int, _ what: String, line: UInt = #line) {
        let share = Double(heads) / Double(count)
        let sigma = (0.25 / Double(count)).squareRoot()
        XCTAssertLessThan(abs(share - 0.5), 4 * sigma, "\(what): \(heads) of \(count)", line: line)
    }

    func testTranslationsCoverExactlyTheFullRangeInBothAxes() {
        for radius in [1, 2, 4] {
            let drawn = transforms(Augmentation(translate: radius, flip: false, cutout: 0), height: 32, width: 32)
            let range = Set(-radius...radius)
            XCTAssertEqual(Set(drawn.map(\.dy)), range, "dy with translate \(radius)")
            XCTAssertEqual(Set(drawn.map(\.dx)), range, "dx with translate \(radius)")
            // Every (dy, dx) pair occurs: the two axes are drawn independently.
            let pairs = Set(drawn.map { [$0.dy, $0.dx] })
            XCTAssertEqual(pairs.count, range.count * range.count, "pairs with translate \(radius)")
            // Roughly uniform: each value within 5σ of its expected count.
            let expected = Double(draws) / Double(range.count)
            let sigma = (expected * (1 - 1 / Double(range.count))).squareRoot()
            for value in range {
                let hits = drawn.filter { $0.dy == value }.count
                XCTAssertLessThan(abs(Double(hits) - expected), 5 * sigma, "dy = \(value): \(hits) of \(draws)")
            }
            XCTAssertTrue(drawn.allSatisfy { !$0.flip && $0.cutoutSize == 0 })
        }
        let still = transforms(Augmentation(translate: 0, flip: false, cutout: 0), height: 8, width: 8)
        XCTAssertTrue(still.allSatisfy { $0 == .identity })
    }

    func testFlipsAreBalanced() {
        let drawn = transforms(Augmentation(translate: 2, flip: true, cutout: 0), height: 16, width: 16)
        assertBalanced(drawn.filter(\.flip).count, of: draws, "flips")
        // Independent of the translation drawn before it.
        let shifted = drawn.filter { $0.dx > 0 }
        assertBalanced(shifted.filter(\.flip).count, of: shifted.count, "flips among dx > 0")
    }

    func testAlternatingFlipAlternatesAndIsBalancedOverItems() {
        let epochs = 6
        let flips = (0..<draws).map { item in
            (0..<epochs).map { Augmentation.alternatingFlip(item: item, epoch: $0, seed: 7) }
        }
        for (item, sequence) in flips.enumerated() {
            for epoch in 1..<epochs {
                XCTAssertNotEqual(sequence[epoch], sequence[epoch - 1], "item \(item), epoch \(epoch)")
            }
        }
        assertBalanced(flips.filter { $0[0] }.count, of: draws, "first-epoch flips")
        let otherSeed = (0..<draws).map { Augmentation.alternatingFlip(item: $0, epoch: 0, seed: 8) }
        XCTAssertNotEqual(otherSeed, flips.map { $0[0] })
    }

    func testCutoutCentresCoverTheWholeImageAndThePatchHasItsSize() {
        for (height, width, size) in [(32, 32, 8), (12, 20, 5)] {
            let drawn = transforms(Augmentation(translate: 0, flip: false, cutout: size), height: height, width: width)
            XCTAssertTrue(drawn.allSatisfy { $0.cutoutSize == size })
            // The centre (corner + size/2) is uniform over every pixel: each row and column hit, none outside.
            XCTAssertEqual(Set(drawn.map { $0.cutoutY + size / 2 }), Set(0..<height), "centre rows, \(height)x\(width)")
            XCTAssertEqual(Set(drawn.map { $0.cutoutX + size / 2 }), Set(0..<width), "centre columns, \(height)x\(width)")
            // So the patch hangs over every edge sometimes, and lies fully inside sometimes.
            XCTAssertTrue(drawn.contains { $0.cutoutY < 0 } && drawn.contains { $0.cutoutY + size > height })
            XCTAssertTrue(drawn.contains { $0.cutoutX < 0 } && drawn.contains { $0.cutoutX + size > width })
            XCTAssertTrue(drawn.contains { $0.cutoutY >= 0 && $0.cutoutY + size <= height
                                           && $0.cutoutX >= 0 && $0.cutoutX + size <= width })
        }
    }

    /// The assembled batch against a plain reference (the kernel's twin): shifted with reflected
    /// edges, mirrored, and the cutout square — clipped to the image — zero, nothing else.
    func testAssembledImagesMatchThePlainReference() {
        let height = 9, width = 7, channels = 3, images = 4
        var random = SeededRandom(seed: 5)
        let pixels = (0..<(images * height * width * channels)).map { _ in UInt8(random.next() % 256) }
        let normalization = Normalization(mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3])
        let augmentation = Augmentation(translate: 3, flip: true, cutout: 4)
        let drawn = transforms(augmentation, height: height, width: width).prefix(200)
        let sources = drawn.indices.map { $0 % images }
        var output = [Float](repeating: .nan, count: drawn.count * height * width * channels)
        pixels.withUnsafeBytes { raw in
            output.withUnsafeMutableBufferPointer { out in
                BatchAssembly.assemble(pixels: raw, height: height, width: width, channels: channels, sources: sources,
                                       transforms: Array(drawn), normalization: normalization,
                                       output: out.baseAddress!, threads: 2)
            }
        }
        func reflect(_ i: Int, _ size: Int) -> Int { i < 0 ? -i : (i >= size ? 2 * size - 2 - i : i) }
        var zeroed = 0
        for (k, t) in drawn.enumerated() {
            var mismatches: [String] = []
            for y in 0..<height {
                for x in 0..<width {
                    let sourceY = reflect(y + t.dy, height)
                    let shiftedX = reflect(x + t.dx, width)
                    let sourceX = t.flip ? width - 1 - shiftedX : shiftedX
                    let inCutout = (t.cutoutY..<(t.cutoutY + t.cutoutSize)).contains(y)
                        && (t.cutoutX..<(t.cutoutX + t.cutoutSize)).contains(x)
                    if inCutout { zeroed += 1 }
                    for c in 0..<channels {
                        let byte = pixels[((sources[k] * height + sourceY) * width + sourceX) * channels + c]
                        let expected = inCutout ? 0 : (Float(byte) / 255 - normalization.mean[c]) / normalization.std[c]
                        let actual = output[((k * height + y) * width + x) * channels + c]
                        if !(abs(actual - expected) <= 1e-5) { mismatches.append("(\(y), \(x), \(c)): \(actual) ≠ \(expected)") }
                    }
                }
            }
            XCTAssertTrue(mismatches.isEmpty, "image \(k) \(t): \(mismatches.count) values differ, first \(mismatches.first ?? "")")
        }
        XCTAssertGreaterThan(zeroed, 0)
    }
}
