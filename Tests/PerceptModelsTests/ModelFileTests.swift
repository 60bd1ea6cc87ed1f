import Foundation
import PerceptCore
@testable import PerceptModels
import XCTest
import PerceptModelKit

final class ModelFileTests: XCTestCase {
    private func sampleArchive() throws -> ModelArchive {
        struct Settings: Codable, Equatable { var k: Int; var metric: String; var rate: Double }
        var archive = ModelArchive(kind: "test-kind", kindVersion: 2, classNames: ["cat", "dog", "ünïcode"],
                                   inputShape: [4, 3, 3], resizeMode: "center-crop",
                                   tensors: ["weights": Tensor(shape: [2, 3], scalars: [1, -2.5, .pi, 0, -0, 1e-30]),
                                             "bias": Tensor(shape: [3], scalars: [0.25, 7, -1])],
                                   metadata: ["dataset": "photos"])
        archive.blobs["pixels"] = [0, 255, 7, 9, 1]
        archive.setInt32s([3, -1, Int32.max], as: "labels")
        try archive.setSettings(Settings(k: 5, metric: "l1", rate: 0.125))
        return archive
    }

    func testRoundTripKeepsEverything() throws {
        let archive = try sampleArchive()
        let bytes = try ModelFile.encode(archive)
        let decoded = try ModelFile.decode(bytes, path: "m.percept")
        XCTAssertEqual(decoded.kind, "test-kind")
        XCTAssertEqual(decoded.kindVersion, 2)
        XCTAssertEqual(decoded.classNames, archive.classNames)
        XCTAssertEqual(decoded.inputShape, [4, 3, 3])
        XCTAssertEqual(decoded.resizeMode, "center-crop")
        XCTAssertEqual(decoded.tensors, archive.tensors)
        XCTAssertEqual(decoded.blobs, archive.blobs)
        XCTAssertEqual(try decoded.int32s("labels"), [3, -1, Int32.max])
        XCTAssertEqual(decoded.metadata, ["dataset": "photos"])
        struct Settings: Codable, Equatable { var k: Int; var metric: String; var rate: Double }
        XCTAssertEqual(try decoded.settings(as: Settings.self), Settings(k: 5, metric: "l1", rate: 0.125))
        // The same archive always gives the same bytes (arrays in name order, sorted JSON keys).
        XCTAssertEqual(try ModelFile.encode(decoded), bytes)
    }

    func testArraysStartAligned() throws {
        let bytes = [UInt8](try ModelFile.encode(try sampleArchive()))
        let headerLength = Int(bytes[24]) | Int(bytes[25]) << 8 | Int(bytes[26]) << 16
        XCTAssertEqual((32 + headerLength) % 64, 0)
    }

    func testEveryTruncationFailsCleanly() throws {
        let bytes = try ModelFile.encode(try sampleArchive())
        for length in [0, 4, 8, 20, 40, bytes.count / 2, bytes.count - 1] {
            XCTAssertThrowsError(try ModelFile.decode(bytes.prefix(length), path: "cut.percept"), "length \(length)") { error in
                let error = error as? PerceptError
                XCTAssertEqual(error?.path, "cut.percept")
                XCTAssert(error?.kind == .corrupt || error?.kind == .unsupported, "\(String(describing: error))")
            }
        }
    }

    func testFlippedByteIsCaughtByTheChecksum() throws {
        var bytes = try ModelFile.encode(try sampleArchive())
        bytes[bytes.count - 40] ^= 0x10
        XCTAssertThrowsError(try ModelFile.decode(bytes, path: "m.percept")) { error in
            XCTAssertEqual((error as? PerceptError)?.kind, .corrupt)
            XCTAssert("\(error)".contains("checksum"))
        }
    }

    func testNewerFormatVersionIsRefusedWithAnUpgradeHint() throws {
        var bytes = try ModelFile.encode(try sampleArchive())
        bytes[8] = 99
        XCTAssertThrowsError(try ModelFile.decode(bytes, path: "m.percept")) { error in
            XCTAssertEqual((error as? PerceptError)?.kind, .unsupported)
            XCTAssert("\(error)".contains("upgrade"))
        }
    }

    func testOtherFilesAreNamedForWhatTheyAre() {
        XCTAssertThrowsError(try ModelFile.decode(Data("PRCPTPAK....".utf8), path: "d.pack")) { error in
            XCTAssert("\(error)".contains("dataset pack"))
        }
        XCTAssertThrowsError(try ModelFile.decode(Data("hello".utf8), path: "x.txt")) { error in
            XCTAssertEqual((error as? PerceptError)?.kind, .unsupported)
        }
        XCTAssertThrowsError(try ModelFile.read("/nonexistent/model.percept")) { error in
            XCTAssertEqual((error as? PerceptError)?.kind, .io)
        }
    }

    func testWriteIsAtomicAndReadable() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("modelfile-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/m.percept"
        try ModelFile.write(try sampleArchive(), to: path)
        XCTAssertEqual(try ModelFile.read(path).tensors, try sampleArchive().tensors)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["m.percept"])
    }

    func testArchiveAccessorsNameWhatIsMissing() throws {
        let archive = try sampleArchive()
        XCTAssertThrowsError(try archive.tensor("weights", shape: [3, 2])) { XCTAssert("\($0)".contains("[2, 3]")) }
        XCTAssertThrowsError(try archive.tensor("nope")) { XCTAssert("\($0)".contains("nope")) }
        XCTAssertThrowsError(try archive.require(kind: "knn", newestVersion: 5)) { XCTAssert("\($0)".contains("test-kind")) }
        XCTAssertThrowsError(try archive.require(kind: "test-kind", newestVersion: 1)) { XCTAssert("\($0)".contains("update")) }
        XCTAssertNoThrow(try archive.require(kind: "test-kind", newestVersion: 2))
    }
}
