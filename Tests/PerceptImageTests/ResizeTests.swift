@testable import PerceptImage
import XCTest

final class ResizeTests: XCTestCase {
    func testHalvingIsTheMeanOfEachTwoByTwoBlock() {
        let source = Fixtures.noise(width: 8, height: 6)
        let half = source.resized(to: ImageSize(width: 4, height: 3), mode: .squash)
        XCTAssertEqual(half.size, ImageSize(width: 4, height: 3))
        for y in 0..<3 {
            for x in 0..<4 {
                for c in 0..<3 {
                    let sum = [(0, 0), (1, 0), (0, 1), (1, 1)].reduce(0) { total, d in
                        total + Int(source.pixels[((2 * y + d.1) * 8 + 2 * x + d.0) * 3 + c])
                    }
                    // mean rounded half up: (sum + 2) / 4
                    XCTAssertEqual(Int(half.pixels[(y * 4 + x) * 3 + c]), (sum + 2) / 4, "at \(x),\(y),\(c)")
                }
            }
        }
    }

    func testFractionalCoverage() {
        // 3 → 2 pixels: each output covers 1.5 inputs: (0 + ½·90)/1.5 = 30, (½·90 + 180)/1.5 = 150.
        let source = Image(width: 3, height: 1, pixels: [0, 0, 0, 90, 90, 90, 180, 180, 180])
        XCTAssertEqual(source.resized(to: ImageSize(width: 2, height: 1), mode: .squash).pixels, [30, 30, 30, 150, 150, 150])
    }

    func testConstantImageStaysConstant() {
        let source = Image(width: 17, height: 13, fill: (12, 200, 77))
        for size in [(5, 3), (31, 29), (17, 40), (1, 1), (13, 17), (100, 7)] {
            for mode in ResizeMode.allCases {
                let target = ImageSize(width: size.0, height: size.1)
                XCTAssertEqual(source.resized(to: target, mode: mode), Image(width: size.0, height: size.1, fill: (12, 200, 77)),
                               "\(target) \(mode)")
            }
        }
    }

    func testUpscaleInterpolatesLinearlyBetweenPixelCentres() {
        // 1 wide, 2 tall (0 above 100) → 4 tall: centres map to −0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
        let source = Image(width: 1, height: 2, pixels: [0, 0, 0, 100, 100, 100])
        let tall = source.resized(to: ImageSize(width: 1, height: 4), mode: .squash)
        XCTAssertEqual(tall.pixels, [0, 0, 0, 25, 25, 25, 75, 75, 75, 100, 100, 100])
        let wide = Image(width: 2, height: 1, pixels: [0, 40, 200, 100, 80, 0]).resized(to: ImageSize(width: 4, height: 1),
                                                                                          mode: .squash)
        XCTAssertEqual(wide.pixels, [0, 40, 200, 25, 50, 150, 75, 70, 50, 100, 80, 0])
    }

    func testCenterCropPicksTheMiddle() {
        // 6×2, column x has red 10·x: a 2×2 centre crop keeps columns 2 and 3 unchanged.
        var wide = Image(width: 6, height: 2)
        for y in 0..<2 { for x in 0..<6 { wide[x, y] = (UInt8(10 * x), UInt8(y), 0) } }
        let square = wide.resized(to: ImageSize(width: 2, height: 2), mode: .centerCrop)
        XCTAssertEqual(square.pixels, [20, 0, 0, 30, 0, 0, 20, 1, 0, 30, 1, 0])

        // 2×8 tall, row y has green 10·y: a 1×1 centre crop of the middle 2×2 (rows 3, 4) averages them.
        var tall = Image(width: 2, height: 8)
        for y in 0..<8 { for x in 0..<2 { tall[x, y] = (0, UInt8(10 * y), 0) } }
        XCTAssertEqual(tall.resized(to: ImageSize(width: 1, height: 1), mode: .centerCrop).pixels, [0, 35, 0])
        // Squash uses everything: mean of 0...70 = 35 as well, but a 2×2 squash differs from a crop.
        XCTAssertEqual(tall.resized(to: ImageSize(width: 2, height: 2), mode: .squash).pixels,
                       [0, 15, 0, 0, 15, 0, 0, 55, 0, 0, 55, 0])
        XCTAssertEqual(tall.resized(to: ImageSize(width: 2, height: 2), mode: .centerCrop).pixels,
                       [0, 30, 0, 0, 30, 0, 0, 40, 0, 0, 40, 0])
    }

    func testOutputSizesAndIdentity() {
        let source = Fixtures.noise(width: 40, height: 30)
        XCTAssertEqual(source.resized(to: source.size, mode: .squash), source)
        XCTAssertEqual(source.resized(to: source.size, mode: .centerCrop), source)
        for (w, h) in [(32, 32), (64, 16), (7, 50), (40, 31)] {
            for mode in ResizeMode.allCases {
                let out = source.resized(to: ImageSize(width: w, height: h), mode: mode)
                XCTAssertEqual(out.size, ImageSize(width: w, height: h))
                XCTAssertEqual(out.pixels.count, w * h * 3)
            }
        }
    }

    /// The two-pass Float kernel against its one-pixel-at-a-time Double twin, on noise, for
    /// shrinking, growing, mixed axes and centre crops: equal up to rounding at .5 (±1).
    func testResizeMatchesItsReferenceTwin() {
        let sizes = [(17, 11), (32, 32), (5, 9)]
        let targets = [(8, 5), (40, 23), (16, 30), (3, 3), (17, 11)]
        for (index, (width, height)) in sizes.enumerated() {
            let image = Fixtures.noise(width: width, height: height, seed: UInt32(index + 1))
            for (targetWidth, targetHeight) in targets {
                for mode in [ResizeMode.squash, .centerCrop] {
                    let size = ImageSize(width: targetWidth, height: targetHeight)
                    let fast = image.resized(to: size, mode: mode), twin = image.resizedReference(to: size, mode: mode)
                    XCTAssertEqual(fast.size, twin.size)
                    let worst = zip(fast.pixels, twin.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
                    XCTAssertLessThanOrEqual(worst, 1, "\(width)x\(height) → \(targetWidth)x\(targetHeight) \(mode)")
                }
            }
        }
    }
}
