import Foundation
import TestSupport
import XCTest

/// `mpirun -np 2 percept evaluate|predict KNN-MODEL … --distributed` against the single-process
/// command (stdout byte for byte, `--json` included), and the ways a job must fail: ranks holding
/// different models, a rank that cannot read its data (skipped where mpirun is missing).
final class DistributedSearchCLITests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        _ = try MPILauncher.mpirun()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("percept-dist-search-\(UUID().uuidString)").path
        let drawn = try runPercept(["dataset", "synthesize", "-o", "\(folder)/shapes", "--folders", "--per-class", "12",
                                    "--size", "12x12"])
        XCTAssertEqual(drawn.status, 0, drawn.stderr)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func train(_ name: String, _ arguments: [String]) throws -> String {
        let path = "\(folder)/\(name).percept"
        let trained = try runPercept(["train", "\(folder)/shapes", "--model", "knn", "-o", path] + arguments)
        XCTAssertEqual(trained.status, 0, trained.stderr)
        return path
    }

    func testTwoRanksPrintExactlyWhatOneProcessPrints() throws {
        let binary = try perceptBinary()
        for (name, settings) in [("l1", ["--k", "5", "--metric", "l1"]), ("l2", ["--k", "4", "--metric", "l2"])] {
            let model = try train(name, settings)
            let commands: [[String]] = [
                ["evaluate", model, "\(folder)/shapes", "--split", "all", "--json"],
                ["evaluate", model, "\(folder)/shapes"],
                ["predict", model, "\(folder)/shapes/circle", "--top", "3", "--json"],
            ]
            for command in commands {
                let single = try runPercept(command)
                XCTAssertEqual(single.status, 0, single.stderr)
                let job = try MPILauncher.run(ranks: 2, binary, command + ["--distributed"], timeout: 120)
                XCTAssertFalse(job.timedOut, "mpirun hung: \(job.stderr)")
                XCTAssertEqual(job.status, 0, "\(command): \(job.stderr)")
                XCTAssertEqual(job.stdout, single.stdout, "\(name) \(command.joined(separator: " "))")
            }
        }
    }

    func testRanksWithDifferentModelsAreRefusedBeforeWork() throws {
        let binary = try perceptBinary()
        let five = try train("five", ["--k", "5"]), three = try train("three", ["--k", "3"])
        // One job, two programs (Open MPI's "a : b" form): rank 0 loads one model, rank 1 the other.
        let arguments = ["evaluate", five, "\(folder)/shapes", "--distributed",
                         ":", "-np", "1", binary, "evaluate", three, "\(folder)/shapes", "--distributed"]
        let job = try MPILauncher.run(ranks: 1, binary, arguments, timeout: 60)
        XCTAssertFalse(job.timedOut, "a rank waited forever: \(job.stderr)")
        XCTAssertNotEqual(job.status, 0)
        XCTAssertTrue(job.stderr.contains("do not have the same model file"), job.stderr)
        XCTAssertTrue(job.stderr.contains("rank 1 has"), job.stderr)
        XCTAssertFalse(job.stdout.contains("accuracy"), "no evaluation may run: \(job.stdout)")
    }

    func testARankThatCannotReadItsDataEndsTheJobNamingItself() throws {
        let binary = try perceptBinary()
        let model = try train("knn", ["--k", "3"])
        let arguments = ["evaluate", model, "\(folder)/shapes", "--distributed",
                         ":", "-np", "1", binary, "evaluate", model, "\(folder)/missing", "--distributed"]
        let job = try MPILauncher.run(ranks: 1, binary, arguments, timeout: 60)
        XCTAssertFalse(job.timedOut, "rank 0 waited forever for rank 1: \(job.stderr)")
        XCTAssertNotEqual(job.status, 0)
        XCTAssertTrue(job.stderr.contains("percept: rank 1 of 2:"), job.stderr)
        XCTAssertTrue(job.stderr.contains("\(folder)/missing"), job.stderr)
    }

    func testOtherFamiliesAreRefusedUnderSeveralRanks() throws {
        let binary = try perceptBinary()
        let path = "\(folder)/ncm.percept"
        XCTAssertEqual(try runPercept(["train", "\(folder)/shapes", "--model", "ncm", "-o", path]).status, 0)
        let job = try MPILauncher.run(ranks: 2, binary, ["evaluate", path, "\(folder)/shapes", "--distributed"], timeout: 60)
        XCTAssertFalse(job.timedOut, job.stderr)
        XCTAssertNotEqual(job.status, 0)
        XCTAssertTrue(job.stderr.contains("--distributed splits k-NN search"), job.stderr)
    }
}

