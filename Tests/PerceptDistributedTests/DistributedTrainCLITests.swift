import Foundation
import TestSupport
import XCTest

/// `mpirun -np 2 percept train … --distributed` end to end (skipped where mpirun or the built
/// `percept` is missing): the job prints what one process prints, once, and trains the same model.
final class DistributedTrainCLITests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "percept-dp-cli-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory + "/cifar", withIntermediateDirectories: true)
        try Self.writeCIFARBinary(to: directory + "/cifar/data_batch_1.bin", count: 300)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func percept() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        guard let binary = [".build/debug/percept", ".build/release/percept"].map({ root.appendingPathComponent($0).path })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("percept is not built (swift build builds it)")
        }
        return binary
    }

    /// A CIFAR-10 binary batch of `count` 32×32 records, labels cycling 0…9, each class a colour of
    /// its own under seeded noise: learnable, and the same bytes every run.
    static func writeCIFARBinary(to path: String, count: Int) throws {
        var bytes = [UInt8](), state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for index in 0..<count {
            let label = index % 10
            bytes.append(UInt8(label))
            for channel in 0..<3 {
                let base = (label * 37 + channel * (label + 1) * 23) % 256
                for _ in 0..<1024 {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    bytes.append(UInt8(clamping: base + Int(state >> 58) - 32))
                }
            }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    private func summary(_ stdout: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any], stdout)
    }

    /// Trains once alone and once on two ranks; returns both `--json` summaries after checking the job's output.
    private func trainBoth(_ options: [String]) throws -> (single: [String: Any], distributed: [String: Any]) {
        let binary = try percept()
        let data = directory + "/cifar"
        let alone = try MPILauncher.run(ranks: 1, binary, ["train", data, "-o", directory + "/single.percept", "--json"] + options)
        XCTAssertEqual(alone.status, 0, alone.stderr)
        let job = try MPILauncher.run(ranks: 2, binary,
                                      ["train", data, "-o", directory + "/distributed.percept", "--json", "--distributed"] + options)
        XCTAssertFalse(job.timedOut, "mpirun hung: \(job.stderr)")
        XCTAssertEqual(job.status, 0, job.stderr)
        // One JSON document: rank 1 printed nothing.
        XCTAssertEqual(job.stdout.components(separatedBy: "\"validationAccuracy\"").count - 1, 1, job.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/distributed.percept"))
        return (try summary(alone.stdout), try summary(job.stdout))
    }

    private func assertSameSummary(_ single: [String: Any], _ distributed: [String: Any], except: Set<String>,
                                   file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(single.keys), Set(distributed.keys), file: file, line: line)
        for key in single.keys.sorted() where !except.contains(key) {
            XCTAssertEqual("\(single[key] ?? "")", "\(distributed[key] ?? "")", key, file: file, line: line)
        }
    }

    func testSoftmaxOnTwoRanksPrintsTheSingleProcessSummary() throws {
        let (single, distributed) = try trainBoth(["--model", "softmax", "--epochs", "3", "--batch", "50", "--threads", "1", "--seed", "3"])
        // Same validation accuracy, images and classes; only times and the file name differ (and the model's
        // size by a few bytes: its metadata holds the loss curve, summed in another order).
        assertSameSummary(single, distributed, except: ["trainingSeconds", "totalSeconds", "model", "modelBytes"])
        let bytes = [single, distributed].compactMap { $0["modelBytes"] as? Int }
        XCTAssertEqual(bytes.count, 2)
        XCTAssertLessThan(abs(bytes[0] - bytes[1]), 64, "\(bytes)")
        XCTAssertEqual("\(distributed["model"] ?? "")", directory + "/distributed.percept")
    }

    func testCNNOnTwoRanksTrainsAndPrintsOnce() throws {
        let (single, distributed) = try trainBoth(["--model", "cnn", "--arch", "tiny", "--epochs", "1", "--batch", "32",
                                                   "--threads", "1", "--seed", "3"])
        // BatchNorm normalises per rank, so accuracy (and the curve in the model's metadata) may differ a
        // little from one process; the rest agrees. Equality of the weights is DataParallelTrainingTests'.
        assertSameSummary(single, distributed, except: ["trainingSeconds", "totalSeconds", "model", "validationAccuracy", "modelBytes"])
        let accuracy = try XCTUnwrap(distributed["validationAccuracy"] as? Double)
        XCTAssertTrue((0...1).contains(accuracy))
    }

    func testTransferOnTwoRanksPrintsTheSingleProcessSummary() throws {
        // Each rank extracts its half's features; one L-BFGS iteration leaves the heads equal to rounding
        // (TransferDataParallelTests compares the numbers), so the validation accuracy is the same.
        let (single, distributed) = try trainBoth(["--model", "transfer", "--backbone", "random-features",
                                                   "--feature-cache", "none", "--l2", "0.1", "--epochs", "1",
                                                   "--threads", "1", "--seed", "3"])
        assertSameSummary(single, distributed, except: ["trainingSeconds", "totalSeconds", "model", "modelBytes"])
    }

    func testRanksWithDifferentDataRefuseToTrain() throws {
        // Rank 1 reads a copy with one record changed: the dataset digests differ.
        let binary = try percept()
        let other = directory + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: directory + "/cifar/data_batch_1.bin"))
        bytes[5] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: other + "/data_batch_1.bin"))
        let script = directory + "/rank-data.sh"
        try """
            #!/bin/sh
            if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then data=\(other); else data=\(directory)/cifar; fi
            exec \(binary) train "$data" --model softmax --epochs 1 --threads 1 -o \(directory)/never.percept --distributed
            """.write(toFile: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        let job = try MPILauncher.run(ranks: 2, script, [])
        XCTAssertFalse(job.timedOut, "mpirun hung: \(job.stderr)")
        XCTAssertNotEqual(job.status, 0)
        XCTAssertTrue(job.stderr.contains("do not have the same training data"), job.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/never.percept"))
    }
}
