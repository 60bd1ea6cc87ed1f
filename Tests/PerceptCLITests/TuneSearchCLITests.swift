import Foundation
import XCTest
import Percept

/// `percept tune search`: any registered family's options searched on validation, the best saved.
final class TuneSearchCLITests: XCTestCase {
    func testSearchReportsEveryTrialAndSavesTheBest() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("percept-tune-search-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let drawn = try runPercept(["dataset", "synthesize", "-o", "\(folder)/shapes", "--folders", "--per-class", "12",
                                    "--size", "16x16"])
        XCTAssertEqual(drawn.status, 0, drawn.stderr)
        let run = try runPercept(["tune", "search", "\(folder)/shapes", "--model", "knn", "--k", "1,3,5", "--metric", "l1,l2",
                                  "--weighting", "distance", "--save", "\(folder)/best.percept", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let trials = try XCTUnwrap(summary["trials"] as? [[String: Any]])
        XCTAssertEqual(trials.count, 6, "3 values of k × 2 metrics")
        XCTAssertEqual((summary["fixed"] as? [String: String])?["weighting"], "distance")
        let accuracies = trials.compactMap { $0["validationAccuracy"] as? Double }
        let best = try XCTUnwrap(summary["best"] as? [String: Any])
        XCTAssertEqual(best["validationAccuracy"] as? Double, accuracies.max())
        // The saved model is the best trial's setting, and it loads as that family.
        let saved = try SavedModel.load("\(folder)/best.percept")
        XCTAssertEqual(saved.family?.name, "knn")
        let values = try XCTUnwrap(best["values"] as? [String: String])
        let knn = try XCTUnwrap(saved.model as? KNearestNeighbors)
        XCTAssertEqual(String(knn.k), values["k"])
        XCTAssertEqual(knn.metric.rawValue, values["metric"])

        for (arguments, message) in [(["--model", "knn", "--hidden", "3,4"], "--hidden"), (["--model", "knn", "--k", "0,2"], "--k"),
                                     (["--model", "tree"], "tree")] {
            let bad = try runPercept(["tune", "search", "\(folder)/shapes"] + arguments)
            XCTAssertEqual(bad.status, 1, "\(arguments)")
            XCTAssertTrue(bad.stderr.contains(message), bad.stderr)
        }
    }
}
