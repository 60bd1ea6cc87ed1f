import Foundation
import PerceptCore
import PerceptData
@testable import PerceptModelKit
@testable import PerceptModels
import TestSupport
import XCTest

/// Model files written before the shared container (format version 1) still load, to the same
/// content, and the models they hold still predict.
final class LegacyModelFileTests: XCTestCase {
    /// What an archive holds, as the version that wrote the fixture dumped it.
    struct ArchiveDump: Codable, Equatable {
        var kind: String, kindVersion: Int, classNames: [String], inputShape: [Int], resizeMode: String?
        var settings: String, metadata: [String: String], tensors: [String: TensorDump], blobs: [String: Data]

        init(_ archive: ModelArchive) {
            (kind, kindVersion, classNames, inputShape) = (archive.kind, archive.kindVersion, archive.classNames, archive.inputShape)
            (resizeMode, metadata) = (archive.resizeMode, archive.metadata)
            settings = String(decoding: archive.settings, as: UTF8.self)
            tensors = archive.tensors.mapValues(TensorDump.init)
            blobs = archive.blobs.mapValues { Data($0) }
        }
    }

    private func assertLoadsUnchanged(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> ModelArchive {
        let path = LegacyFixtures.path(name)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(Array(bytes[8..<12]), [1, 0, 0, 0], "the fixture is a version 1 model file", file: file, line: line)
        let archive = try ModelFile.read(path)
        XCTAssertEqual(ArchiveDump(archive), try LegacyFixtures.expected(name, as: ArchiveDump.self), file: file, line: line)
        // Saved again it is a version 2 file holding the same archive.
        let again = try ModelFile.encode(archive)
        XCTAssertEqual(Array(again[8..<12]), [2, 0, 0, 0], file: file, line: line)
        XCTAssertEqual(try ModelFile.decode(again, path: "again.percept"), archive, file: file, line: line)
        return archive
    }

    func testVersionOneKNNModelLoadsAndPredicts() throws {
        let archive = try assertLoadsUnchanged("knn-v1.percept")
        XCTAssertEqual(archive.kind, "knn")
        XCTAssertEqual(archive.resizeMode, "squash")
        let model = try KNearestNeighbors(archive: archive)
        let train = try SyntheticShapes(imageSize: .init(width: 8, height: 8), seed: 11).makeDataset(perClass: 4)
        // Its stored images are its training set: each finds itself at distance 0.
        XCTAssertEqual(try model.neighbors(of: train).indices.enumerated().filter { $0.offset % model.k == 0 }.map(\.element),
                       Array(0..<Int32(train.count)))
    }

    func testVersionOneLinearModelLoadsAndPredicts() throws {
        let archive = try assertLoadsUnchanged("linear-v1.percept")
        XCTAssertEqual(archive.kind, "linear")
        let model = try LinearClassifier(archive: archive)
        let train = try SyntheticShapes(imageSize: .init(width: 8, height: 8), seed: 11).makeDataset(perClass: 4)
        let scores = try model.scores(for: train)
        XCTAssertEqual(scores.shape, [train.count, archive.classNames.count])
        XCTAssertTrue(scores.scalars.allSatisfy(\.isFinite))
    }

    func testDamagedVersionOneModelIsStillCaught() throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: LegacyFixtures.path("linear-v1.percept")))
        bytes[bytes.count - 100] ^= 0x04
        XCTAssertThrowsError(try ModelFile.decode(bytes, path: "old.percept")) { error in
            XCTAssertEqual((error as? PerceptError)?.kind, .corrupt)
            XCTAssertTrue("\(error)".contains("checksum mismatch"), "\(error)")
        }
        XCTAssertThrowsError(try ModelFile.decode(bytes.prefix(bytes.count / 2), path: "old.percept")) {
            XCTAssertTrue("\($0)".contains("truncated"), "\($0)")
        }
    }
}
