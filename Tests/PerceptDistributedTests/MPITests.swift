import Foundation
import TestSupport
import XCTest

/// The Open MPI path under a real `mpirun -np 2` (skipped where mpirun is missing): every collective
/// against its known answer, and a failing rank ending the job with its message instead of a hang.
final class MPITests: XCTestCase {
    private func bench() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        guard let binary = [".build/debug/percept-bench", ".build/release/percept-bench"].map({ root.appendingPathComponent($0).path })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("percept-bench is not built (swift build --build-tests builds it)")
        }
        return binary
    }

    func testCollectivesGiveTheirKnownAnswersUnderMPIRun() throws {
        let result = try MPILauncher.run(ranks: 2, try bench(), ["collectives", "--sizes", "1000,70000", "--repeats", "3"])
        XCTAssertFalse(result.timedOut, "mpirun hung: \(result.stderr)")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("{\"collectives\":\"ok\",\"ranks\":2}"), result.stdout + result.stderr)
        // Only rank 0 prints: one line per size, not one per rank.
        XCTAssertEqual(result.stdout.components(separatedBy: "percept-allreduce").count - 1, 2, result.stdout)
    }

    func testAnAbandoningRankEndsTheJobNamingItself() throws {
        let result = try MPILauncher.run(ranks: 2, try bench(), ["collectives", "--repeats", "3", "--fail-rank", "1"])
        XCTAssertFalse(result.timedOut, "the other rank waited forever: \(result.stderr)")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("percept: rank 1 of 2: asked to fail"), result.stderr)
    }
}
