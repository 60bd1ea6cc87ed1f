import Foundation
import XCTest

/// `percept tune softmax|mlp` end to end on the built-in shapes: table, pictures, a saved model that
/// `percept predict` reads, a diverging setting reported (not fatal), and usage errors.
final class LinearTuneCLITests: XCTestCase {
    func testTuneWritesPicturesSavesTheBestModelAndReportsDivergence() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("percept-tune-linear-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let drawn = try runPercept(["dataset", "synthesize", "-o", "\(folder)/shapes", "--folders", "--per-class", "20",
                                    "--size", "16x16"])
        XCTAssertEqual(drawn.status, 0, drawn.stderr)
        let run = try runPercept(["tune", "softmax", "\(folder)/shapes", "--lr", "1e30,1e-2", "--reg", "1e-4", "--epochs", "3",
                                  "--batch", "20", "-o", "\(folder)/out", "--save", "\(folder)/best.percept", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let trials = summary?["trials"] as? [[String: Any]] ?? []
        XCTAssertEqual(trials.count, 2)
        XCTAssertTrue((trials.first?["failure"] as? String)?.contains("learning rate 1e+30") ?? false, "\(trials)")
        XCTAssertNotNil(trials.last?["validationAccuracy"])
        for name in ["softmax-tuning.svg", "softmax-tuning.png", "softmax-loss.png", "softmax-accuracy.svg", "softmax-templates.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(folder)/out/\(name)"), name)
        }
        let predicted = try runPercept(["predict", "\(folder)/best.percept", "\(folder)/shapes", "--top", "1", "--csv"])
        XCTAssertEqual(predicted.status, 0, predicted.stderr)
        XCTAssertGreaterThan(predicted.stdout.split(separator: "\n").count, 100)

        let mlp = try runPercept(["tune", "mlp", "\(folder)/shapes", "--features", "hog-color", "--hidden", "8,16", "--lr", "1e-2",
                                  "--reg", "1e-4", "--epochs", "2", "--batch", "20", "-o", "\(folder)/mlp"])
        XCTAssertEqual(mlp.status, 0, mlp.stderr)
        XCTAssertTrue(mlp.stdout.contains("hidden") && mlp.stdout.contains("best:"), mlp.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(folder)/mlp/mlp-templates.png"))

        let bad = try runPercept(["tune", "linear", "\(folder)/shapes", "--lr", "fast"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("--lr"), bad.stderr)
    }
}
