import Foundation
import PerceptCore
import PerceptImage
import XCTest

/// Files that are not decodable images must fail with the right kind of error, naming the file.
final class BadInputTests: XCTestCase {
    let decoder = ImageDecoder()

    func decode(_ bytes: [UInt8], _ path: String) throws { _ = try decoder.decode(bytes, path: path) }

    func testEmptyFile() {
        Fixtures.assertThrows(.unsupported, path: "empty.jpg", containing: "empty file") { try decode([], "empty.jpg") }
    }

    func testTextFileNamedLikeAnImage() {
        Fixtures.assertThrows(.unsupported, path: "notes.png", containing: "text") {
            try decode(Array("hello, this is not an image\n".utf8), "notes.png")
        }
    }

    func testOtherFormatsAreUnsupported() {
        Fixtures.assertThrows(.unsupported, path: "a.gif", containing: "GIF images are not supported") {
            try decode(Array("GIF89a".utf8) + [1, 0, 1, 0, 0, 0, 0], "a.gif")
        }
        Fixtures.assertThrows(.unsupported, path: "a.bmp", containing: "BMP") { try decode(Array("BM".utf8) + [0, 0, 0], "a.bmp") }
        Fixtures.assertThrows(.unsupported, path: "a.webp", containing: "WebP") {
            try decode(Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8 ".utf8), "a.webp")
        }
        Fixtures.assertThrows(.unsupported, path: "a.tif", containing: "TIFF") { try decode([0x49, 0x49, 0x2A, 0, 8, 0], "a.tif") }
        Fixtures.assertThrows(.unsupported, path: "a.bin", containing: "not a PNG or JPEG") {
            try decode([0, 1, 2, 3, 200, 201], "a.bin")
        }
    }

    func testTruncatedJPEG() throws {
        for progressive in [false, true] {
            let jpeg = try Fixtures.noise(width: 64, height: 64).jpegData(quality: 90, progressive: progressive)
            Fixtures.assertThrows(.corrupt, path: "cut.jpg", containing: "truncated") {
                try decode(Array(jpeg.prefix(jpeg.count * 6 / 10)), "cut.jpg")
            }
            // Only the end-of-image marker missing: still reported, not silently accepted.
            Fixtures.assertThrows(.corrupt, path: "cut.jpg") { try decode(Array(jpeg.dropLast(2)), "cut.jpg") }
        }
        let jpeg = try Fixtures.noise(width: 16, height: 16).jpegData()
        Fixtures.assertThrows(.corrupt, path: "head.jpg") { try decode(Array(jpeg.prefix(40)), "head.jpg") }
    }

    func testTruncatedPNG() throws {
        let png = try Fixtures.noise(width: 64, height: 64).pngData()
        Fixtures.assertThrows(.corrupt, path: "cut.png", containing: "truncated") {
            try decode(Array(png.prefix(png.count / 2)), "cut.png")
        }
        Fixtures.assertThrows(.corrupt, path: "cut.png") { try decode(Array(png.prefix(20)), "cut.png") }
    }

    func testPNGWithBadCRC() throws {
        var png = try Fixtures.noise(width: 8, height: 8).pngData()
        png[29] ^= 0xFF  // first byte of IHDR's CRC (8 signature + 4 length + 4 type + 13 data)
        Fixtures.assertThrows(.corrupt, path: "crc.png", containing: "CRC") { try decode(png, "crc.png") }

        var data = try Fixtures.noise(width: 8, height: 8).pngData()
        data[data.count - 12 - 1] ^= 0x01  // last byte of IDAT's CRC, just before IEND
        Fixtures.assertThrows(.corrupt, path: "idat.png", containing: "CRC") { try decode(data, "idat.png") }
    }

    func testContentsOfFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("percept-image-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let image = Fixtures.noise(width: 5, height: 4)
        let path = folder.appendingPathComponent("photo.jpg").path  // a PNG named .jpg: sniffed, not trusted
        try AtomicFile.write(Data(try image.pngData()), to: path)
        XCTAssertEqual(try Image(contentsOfFile: path), image)

        let missing = folder.appendingPathComponent("missing.png").path
        Fixtures.assertThrows(.io, path: missing, containing: "no such file") { _ = try Image(contentsOfFile: missing) }
    }
}

/// libjpeg warns about some harmless defects that real cameras write; those files still decode.
final class JPEGWarningTests: XCTestCase {
    func testExtraneousBytesBeforeAMarkerAreTolerated() throws {
        let decoder = ImageDecoder()
        for progressive in [false, true] {
            let jpeg = try Fixtures.gradient().jpegData(quality: 95, progressive: progressive)
            // SOI (2 bytes) + APP0 JFIF (18 bytes); the next marker starts at 20.
            XCTAssertEqual(Array(jpeg[2..<4]), [0xFF, 0xE0])
            XCTAssertEqual(jpeg[20], 0xFF)
            let damaged = Array(jpeg[0..<20]) + [0x12, 0x34, 0x56] + Array(jpeg[20...])
            let clean = try decoder.decode(jpeg, path: "clean.jpg")
            let tolerated = try decoder.decode(damaged, path: "extraneous.jpg")
            XCTAssertEqual(tolerated.image, clean.image)
            XCTAssertEqual(tolerated.info, clean.info)
            XCTAssertEqual(tolerated.info.progressive, progressive)
        }
    }
}
