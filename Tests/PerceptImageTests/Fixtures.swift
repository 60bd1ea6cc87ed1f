import PerceptCore
@testable import PerceptImage
import XCTest

/// Helpers that build test images and files in memory (no binary fixtures are committed).
enum Fixtures {
    /// A smooth RGB gradient: r = 8x, g = 8y, b = 4(x + y) (for lossy round trips).
    static func gradient(width: Int = 32, height: Int = 32) -> Image {
        var image = Image(width: width, height: height)
        for y in 0..<height {
            for x in 0..<width {
                image[x, y] = (UInt8(min(255, 8 * x)), UInt8(min(255, 8 * y)), UInt8(min(255, 4 * (x + y))))
            }
        }
        return image
    }

    /// Deterministic noise (hard to compress, so truncation cuts real image data).
    static func noise(width: Int, height: Int, seed: UInt32 = 1) -> Image {
        var state = seed
        let pixels = (0..<width * height * 3).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        return Image(width: width, height: height, pixels: pixels)
    }

    /// Stored quadrants for orientation tests: top-left red, top-right green,
    /// bottom-left blue, bottom-right yellow; each 16×8, so the image is 32×16.
    static let quadrantColors: [(UInt8, UInt8, UInt8)] = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]

    static func quadrants() -> Image {
        var image = Image(width: 32, height: 16)
        for y in 0..<16 {
            for x in 0..<32 {
                image[x, y] = quadrantColors[(y < 8 ? 0 : 2) + (x < 16 ? 0 : 1)]
            }
        }
        return image
    }

    /// An APP1 segment (marker, length, "Exif\0\0", TIFF header, IFD0 with one Orientation tag).
    static func exifSegment(orientation: UInt16, bigEndian: Bool = true) -> [UInt8] {
        func u16(_ v: UInt16) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: UInt32) -> [UInt8] {
            let be = [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
            return bigEndian ? be : be.reversed()
        }
        var tiff: [UInt8] = bigEndian ? Array("MM".utf8) : Array("II".utf8)
        tiff += u16(42) + u32(8)                 // magic, offset of IFD0
        tiff += u16(1)                           // one entry
        tiff += u16(0x0112) + u16(3) + u32(1)    // Orientation, SHORT, count 1
        tiff += u16(orientation) + [0, 0]        // value, left-justified in the 4-byte field
        tiff += u32(0)                           // no next IFD
        let payload = Array("Exif".utf8) + [0, 0] + tiff
        let length = payload.count + 2
        return [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
    }

    /// `jpeg` with `segment` inserted right after the SOI marker.
    static func splice(_ segment: [UInt8], into jpeg: [UInt8]) -> [UInt8] {
        Array(jpeg[0..<2]) + segment + Array(jpeg[2...])
    }

    /// Mean absolute difference over all samples.
    static func meanAbsoluteError(_ a: Image, _ b: Image) -> Double {
        precondition(a.pixels.count == b.pixels.count)
        let total = zip(a.pixels, b.pixels).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }
        return Double(total) / Double(a.pixels.count)
    }

    /// Asserts that `body` throws a PerceptError of `kind` whose message names `path`.
    static func assertThrows(_ kind: PerceptError.Kind, path: String, containing text: String? = nil,
                             file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected a \(kind) error, got success", file: file, line: line)
        } catch let error as PerceptError {
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
            XCTAssertTrue(error.description.contains(path), "\(error)", file: file, line: line)
            if let text {
                XCTAssertTrue(error.reason.lowercased().contains(text.lowercased()), "\(error)", file: file, line: line)
            }
        } catch {
            XCTFail("expected PerceptError, got \(error)", file: file, line: line)
        }
    }
}
