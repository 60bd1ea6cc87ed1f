import Foundation
import PerceptCore
@testable import PerceptNetwork
import TestSupport
import XCTest

/// Checkpoints written before the shared container (format version 1) still load, to the same content.
final class LegacyCheckpointTests: XCTestCase {
    /// What a checkpoint holds, as the version that wrote the fixture dumped it.
    struct CheckpointDump: Codable, Equatable {
        var classNames: [String], completedEpochs: Int, globalStep: Int, optimizerSteps: Int, architecture: String
        var epochs: Int, trainLoss: [Float], arrays: [String: TensorDump]

        init(_ checkpoint: Checkpoint) {
            let header = checkpoint.header
            (classNames, completedEpochs, globalStep) = (header.classNames, header.completedEpochs, header.globalStep)
            (optimizerSteps, architecture, epochs) = (header.optimizerSteps, header.architecture.name, header.options.epochs)
            trainLoss = header.history.epochs.map { Float($0.trainLoss) }
            arrays = checkpoint.arrays.mapValues(TensorDump.init)
        }
    }

    func testVersionOneCheckpointLoadsToTheSameContentAndWritesAsVersionTwo() throws {
        let path = LegacyFixtures.path("tiny-v1.ckpt")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(bytes[8..<12]), [1, 0, 0, 0], "the fixture is a version 1 checkpoint")
        let checkpoint = try Checkpoint.read(path)
        let expected = try LegacyFixtures.expected("tiny-v1.ckpt", as: CheckpointDump.self)
        XCTAssertEqual(CheckpointDump(checkpoint), expected)
        XCTAssertTrue(expected.arrays.keys.contains { $0.hasPrefix("optimizer/") })

        let directory = NSTemporaryDirectory() + "percept-legacy-ckpt-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try checkpoint.write(to: directory + "/again.ckpt")
        let again = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/again.ckpt")))
        XCTAssertEqual(Array(again[8..<12]), [2, 0, 0, 0])
        XCTAssertEqual(CheckpointDump(try Checkpoint.read(directory + "/again.ckpt")), expected)
    }

    func testDamagedVersionOneCheckpointIsStillCaught() throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: LegacyFixtures.path("tiny-v1.ckpt")))
        bytes[bytes.count / 2] ^= 0x10
        let path = NSTemporaryDirectory() + "percept-damaged-\(UUID().uuidString).ckpt"
        try bytes.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try Checkpoint.read(path)) { XCTAssertTrue("\($0)".contains("checksum mismatch"), "\($0)") }
    }

    func testAPackGivenAsACheckpointIsNamed() throws {
        XCTAssertThrowsError(try Checkpoint.read(LegacyFixtures.path("shapes-v1.pack"))) { error in
            XCTAssertEqual((error as? PerceptError)?.kind, .unsupported)
            XCTAssertTrue("\(error)".contains("this is a dataset pack, not a training checkpoint"), "\(error)")
        }
    }
}
