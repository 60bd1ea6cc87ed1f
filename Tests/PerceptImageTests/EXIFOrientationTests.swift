import PerceptCore
import PerceptImage
import XCTest

/// A 32×16 image of four flat 16×8 quadrants (stored: red top-left, green top-right, blue
/// bottom-left, yellow bottom-right) is saved as JPEG with an EXIF orientation spliced in;
/// decoding must turn it upright as the EXIF specification describes each value.
final class EXIFOrientationTests: XCTestCase {
    /// For each orientation, which stored quadrant (0 TL, 1 TR, 2 BL, 3 BR) is shown at the
    /// displayed top-left, top-right, bottom-left and bottom-right, from the EXIF meaning
    /// "row 0 is at the visual …, column 0 is at the visual …".
    let shown: [Int: [Int]] = [
        1: [0, 1, 2, 3],  // top, left: as stored
        2: [1, 0, 3, 2],  // top, right: mirrored
        3: [3, 2, 1, 0],  // bottom, right: rotated 180°
        4: [2, 3, 0, 1],  // bottom, left: flipped vertically
        5: [0, 2, 1, 3],  // left, top: transposed
        6: [2, 0, 3, 1],  // right, top: stored image needs 90° clockwise
        7: [3, 1, 2, 0],  // right, bottom: transversed
        8: [1, 3, 0, 2],  // left, bottom: stored image needs 90° counter-clockwise
    ]

    func testAllOrientations() throws {
        let decoder = ImageDecoder()
        let jpeg = try Fixtures.quadrants().jpegData(quality: 95)
        for bigEndian in [true, false] {
            for orientation in 1...8 {
                let file = Fixtures.splice(Fixtures.exifSegment(orientation: UInt16(orientation), bigEndian: bigEndian),
                                           into: jpeg)
                let (image, info) = try decoder.decode(file, path: "o\(orientation).jpg")
                XCTAssertEqual(info.orientation, orientation)
                XCTAssertEqual(info.width, 32)  // stored size
                XCTAssertEqual(info.height, 16)
                XCTAssertEqual(image.size, orientation >= 5 ? ImageSize(width: 16, height: 32) : ImageSize(width: 32, height: 16))
                XCTAssertEqual(try file.withUnsafeBytes { try decoder.probe($0, path: "o.jpg") }.orientation, orientation)

                let (w, h) = (image.width, image.height)
                let corners = [(3, 3), (w - 4, 3), (3, h - 4), (w - 4, h - 4)]
                for (corner, quadrant) in zip(corners, shown[orientation] ?? []) {
                    let got = image[corner.0, corner.1]
                    let want = Fixtures.quadrantColors[quadrant]
                    let close = abs(Int(got.r) - Int(want.0)) <= 10 && abs(Int(got.g) - Int(want.1)) <= 10
                        && abs(Int(got.b) - Int(want.2)) <= 10
                    XCTAssertTrue(close, "orientation \(orientation) at \(corner): got \(got), want \(want)")
                }
            }
        }
    }

    func testMissingOrInvalidOrientationMeansUpright() throws {
        let decoder = ImageDecoder()
        let jpeg = try Fixtures.quadrants().jpegData(quality: 95)
        let plain = try decoder.decode(jpeg, path: "plain.jpg")
        XCTAssertEqual(plain.info.orientation, 1)
        let invalid = try decoder.decode(Fixtures.splice(Fixtures.exifSegment(orientation: 9), into: jpeg), path: "x.jpg")
        XCTAssertEqual(invalid.info.orientation, 1)
        XCTAssertEqual(invalid.image, plain.image)
    }

    func testApplyingOrientationIsExact() {
        // 3×2 stored: a b c / d e f (values 1...6 in red).
        let stored = Image(width: 3, height: 2, pixels: (1...6).flatMap { [UInt8($0), 0, 0] })
        func reds(_ image: Image) -> [UInt8] { stride(from: 0, to: image.pixels.count, by: 3).map { image.pixels[$0] } }
        XCTAssertEqual(reds(stored.applyingEXIFOrientation(1)), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(reds(stored.applyingEXIFOrientation(2)), [3, 2, 1, 6, 5, 4])
        XCTAssertEqual(reds(stored.applyingEXIFOrientation(3)), [6, 5, 4, 3, 2, 1])
        XCTAssertEqual(reds(stored.applyingEXIFOrientation(4)), [4, 5, 6, 1, 2, 3])
        XCTAssertEqual(reds(stored.applyingEXIFOrientation(5)), [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(reds(stored.applyingEXIFOrientation(6)), [4, 1, 5, 2, 6, 3])
        XCTAssertEqual(reds(stored.applyingEXIFOrientation(7)), [6, 3, 5, 2, 4, 1])
        XCTAssertEqual(reds(stored.applyingEXIFOrientation(8)), [3, 6, 2, 5, 1, 4])
        XCTAssertEqual(stored.applyingEXIFOrientation(6).size, ImageSize(width: 2, height: 3))
    }
}
