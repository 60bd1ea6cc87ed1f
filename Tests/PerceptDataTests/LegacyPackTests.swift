import Foundation
import PerceptCore
@testable import PerceptData
import TestSupport
import XCTest

/// Packs written before the shared container (format version 1) still load, to the same content.
final class LegacyPackTests: XCTestCase {
    /// What a dataset holds, as the version that wrote the fixture dumped it.
    struct DatasetDump: Codable, Equatable {
        var height: Int, width: Int, channels: Int
        var classNames: [String], labels: [Int32], splits: [UInt8], sources: [String], pixels: Data

        init(_ dataset: Dataset) {
            (height, width, channels) = (dataset.height, dataset.width, dataset.channels)
            (classNames, labels, sources) = (dataset.classNames, dataset.labels, dataset.sources)
            splits = dataset.splits.map(\.rawValue)
            pixels = dataset.withPixelBytes { Data($0) }
        }
    }

    func testVersionOnePackLoadsToTheSameContent() throws {
        let path = LegacyFixtures.path("shapes-v1.pack")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(bytes[8..<12]), [1, 0, 0, 0], "the fixture is a version 1 pack")
        let expected = try LegacyFixtures.expected("shapes-v1.pack", as: DatasetDump.self)
        XCTAssertEqual(DatasetDump(try PackFile.load(path)), expected)
        XCTAssertEqual(DatasetDump(try PackFile.load(path, verifyChecksum: false)), expected)
        XCTAssertFalse(expected.sources.isEmpty)
        XCTAssertTrue(Set(expected.splits).count > 1, "the fixture carries a split")

        // Written again, it is a version 2 pack with the same content.
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try PackFile.write(try PackFile.load(path), to: directory + "/again.pack")
        let again = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/again.pack")))
        XCTAssertEqual(Array(again[8..<12]), [2, 0, 0, 0])
        XCTAssertEqual(DatasetDump(try PackFile.load(directory + "/again.pack")), expected)
    }

    func testDamagedVersionOnePackIsStillCaught() throws {
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: LegacyFixtures.path("shapes-v1.pack"))))
        bytes[4096 + 3] ^= 0x20  // a pixel
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/damaged.pack"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try PackFile.load(path)) { error in
            XCTAssertEqual((error as? PerceptError)?.kind, .corrupt)
            XCTAssertEqual((error as? PerceptError)?.path, path)
            XCTAssertTrue("\(error)".contains("checksum mismatch"), "\(error)")
        }
        try Data(bytes.dropLast(30)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try PackFile.load(path)) { XCTAssertTrue("\($0)".contains("truncated"), "\($0)") }
    }
}
