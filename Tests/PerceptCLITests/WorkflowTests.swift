import Foundation
import PerceptCore
import PerceptData
import PerceptImage
import XCTest

/// train → evaluate → predict through the executable, as a user runs them.
final class WorkflowTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("percept-workflow-\(UUID().uuidString)").path
        // Three colours, 20 images each, with noise: easy but not trivial.
        var random = SeededRandom(seed: 5)
        for (label, name) in ["red", "green", "blue"].enumerated() {
            try FileManager.default.createDirectory(atPath: "\(folder)/data/\(name)", withIntermediateDirectories: true)
            for index in 0..<20 {
                var pixels = [UInt8](repeating: 0, count: 8 * 8 * 3)
                for i in pixels.indices {
                    pixels[i] = UInt8(Int.random(in: 0..<90, using: &random) + (i % 3 == label ? 150 : 0))
                }
                let image = Image(width: 8, height: 8, pixels: pixels)
                try Data(try image.pngData()).write(to: URL(fileURLWithPath: "\(folder)/data/\(name)/\(index).png"))
            }
        }
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    private func trainModel() throws -> [String: Any] {
        let run = try runPercept(["train", "\(folder)/data", "--model", "ncm", "-o", "\(folder)/m.percept", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        return try json(run.stdout)
    }

    func testTrainThenEvaluateTheUnseenTestSplit() throws {
        let summary = try trainModel()
        XCTAssertEqual(summary["kind"] as? String, "nearest-class-mean")
        XCTAssertEqual(summary["classes"] as? [String], ["blue", "green", "red"])
        let train = summary["trainImages"] as? Int ?? 0, validation = summary["validationImages"] as? Int ?? 0
        let test = summary["testImages"] as? Int ?? 0
        XCTAssertEqual([train, validation, test], [48, 6, 6])
        XCTAssertGreaterThan(summary["validationAccuracy"] as? Double ?? 0, 0.9)
        XCTAssertGreaterThan(summary["modelBytes"] as? Int ?? 0, 3 * 8 * 8 * 3 * 4)

        let run = try runPercept(["evaluate", "\(folder)/m.percept", "\(folder)/data", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let output = try json(run.stdout)
        XCTAssertEqual(output["split"] as? String, "test")
        let evaluation = try XCTUnwrap(output["evaluation"] as? [String: Any])
        XCTAssertEqual(evaluation["images"] as? Int, test)
        // The accuracy is the confusion matrix's diagonal over its total.
        let counts = try XCTUnwrap((evaluation["confusion"] as? [String: Any])?["counts"] as? [[Int]])
        let diagonal = counts.indices.reduce(0) { $0 + counts[$1][$1] }
        XCTAssertEqual(evaluation["accuracy"] as? Double ?? -1, Double(diagonal) / Double(test), accuracy: 1e-12)
        XCTAssertEqual(evaluation["topK"] as? Int, 3)
        XCTAssertEqual(evaluation["topKAccuracy"] as? Double, 1)  // top-3 of 3 classes is always right

        let all = try runPercept(["evaluate", "\(folder)/m.percept", "\(folder)/data", "--split", "all", "--json"])
        XCTAssertEqual(try json(all.stdout)["evaluation"].flatMap { ($0 as? [String: Any])?["images"] as? Int }, 60)
        let text = try runPercept(["evaluate", "\(folder)/m.percept", "\(folder)/data"])
        XCTAssertTrue(text.stdout.contains("weighted avg"), text.stdout)
        XCTAssertTrue(text.stdout.contains("true \\ predicted"), text.stdout)
    }

    func testPredictMixedFolderReportsBadFilesAndGoesOn() throws {
        _ = try trainModel()
        let mixed = "\(folder)/mixed"
        try FileManager.default.createDirectory(atPath: mixed, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(folder)/data/red/0.png", toPath: "\(mixed)/a-red.png")
        // A large JPEG of a green-dominated picture: resized to 8×8 as at training.
        let green = Image(width: 40, height: 30, fill: (30, 220, 40))
        try Data(try green.jpegData(quality: 90)).write(to: URL(fileURLWithPath: "\(mixed)/b-green.jpg"))
        try Data("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8).write(to: URL(fileURLWithPath: "\(mixed)/c.gif"))
        try Data().write(to: URL(fileURLWithPath: "\(mixed)/d-empty.jpg"))

        let run = try runPercept(["predict", "\(folder)/m.percept", mixed, "--top", "2", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let answers = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(answers.map { ($0["path"] as? String).map { ($0 as NSString).lastPathComponent } },
                       ["a-red.png", "b-green.jpg", "c.gif", "d-empty.jpg"])
        let top = answers.map { ($0["top"] as? [[String: Any]]) ?? [] }
        XCTAssertEqual(top[0].first?["label"] as? String, "red")
        XCTAssertEqual(top[1].first?["label"] as? String, "green")
        XCTAssertEqual(top[0].count, 2)
        let probabilities = top[0].compactMap { $0["probability"] as? Double }
        XCTAssertGreaterThanOrEqual(probabilities[0], probabilities[1])
        XCTAssertLessThanOrEqual(probabilities.reduce(0, +), 1 + 1e-6)
        XCTAssertTrue(top[2].isEmpty && top[3].isEmpty)
        XCTAssertTrue((answers[2]["error"] as? String ?? "").contains("GIF"), "\(answers[2])")
        XCTAssertTrue((answers[3]["error"] as? String ?? "").contains("empty"), "\(answers[3])")

        let strict = try runPercept(["predict", "\(folder)/m.percept", mixed, "--strict"])
        XCTAssertEqual(strict.status, 2)
        XCTAssertTrue(strict.stderr.contains("c.gif"), strict.stderr)

        let csv = try runPercept(["predict", "\(folder)/m.percept", "\(mixed)/a-red.png", "--top", "1", "--csv"])
        XCTAssertEqual(csv.stdout.split(separator: "\n").first, "path,rank,label,probability,error")
        XCTAssertTrue(csv.stdout.contains("a-red.png,1,red,"), csv.stdout)

        let nothing = try runPercept(["predict", "\(folder)/m.percept", "\(mixed)/c.gif"])
        XCTAssertEqual(nothing.status, 2, "every file unreadable is an input error")
    }

    func testDamagedOrWrongModelFilesFailClearly() throws {
        _ = try trainModel()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/m.percept"))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: "\(folder)/cut.percept"))
        let cut = try runPercept(["predict", "\(folder)/cut.percept", "\(folder)/data/red/0.png"])
        XCTAssertEqual(cut.status, 2)
        XCTAssertTrue(cut.stderr.contains("cut.percept") && cut.stderr.contains("truncated"), cut.stderr)

        let imported = try runPercept(["dataset", "import", "\(folder)/data", "-o", "\(folder)/d.pack"])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        let pack = try runPercept(["evaluate", "\(folder)/d.pack", "\(folder)/data"])
        XCTAssertEqual(pack.status, 2)
        XCTAssertTrue(pack.stderr.contains("dataset pack"), pack.stderr)

        // Data with a label the model never saw.
        try FileManager.default.copyItem(atPath: "\(folder)/data/red", toPath: "\(folder)/data/purple")
        let unknown = try runPercept(["evaluate", "\(folder)/m.percept", "\(folder)/data", "--split", "all"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("purple"), unknown.stderr)
    }

    func testTunedKNNIsSavedWithoutTouchingTheTestSplit() throws {
        let run = try runPercept(["tune", "knn", "\(folder)/data", "--k", "1,3", "--metric", "l1", "--folds", "3",
                                  "--output", "\(folder)/cv", "--save", "\(folder)/tuned.percept", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let result = try XCTUnwrap(try json(run.stdout)["result"] as? [String: Any])
        XCTAssertEqual(result["itemCount"] as? Int, 54, "train + validation of the 48/6/6 split, never the 6 test images")
        let evaluated = try runPercept(["evaluate", "\(folder)/tuned.percept", "\(folder)/data", "--json"])
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        XCTAssertEqual((try json(evaluated.stdout)["evaluation"] as? [String: Any])?["images"] as? Int, 6)
    }

    func testEveryTrainableFamilySavesAModelThatPredicts() throws {
        for (family, extra) in [("svm", ["--epochs", "2"]), ("softmax", ["--epochs", "2"]),
                                ("mlp", ["--epochs", "2", "--hidden", "8"]), ("cnn", ["--arch", "tiny", "--epochs", "1"]),
                                ("knn", ["--k", "3", "--metric", "cosine"])] {
            let path = "\(folder)/\(family).percept"
            let run = try runPercept(["train", "\(folder)/data", "--model", family, "-o", path, "--json"] + extra)
            XCTAssertEqual(run.status, 0, "\(family): \(run.stderr)")
            let accuracy = try json(run.stdout)["validationAccuracy"] as? Double ?? -1
            XCTAssertTrue((0...1).contains(accuracy), "\(family): \(accuracy)")
            let predicted = try runPercept(["predict", path, "\(folder)/data/blue/0.png", "--json"])
            XCTAssertEqual(predicted.status, 0, "\(family): \(predicted.stderr)")
            XCTAssertTrue(predicted.stdout.contains("\"label\""), "\(family): \(predicted.stdout)")
        }
        // The colours are easy: the linear softmax must find them (chance is 1/3).
        let evaluated = try runPercept(["evaluate", "\(folder)/softmax.percept", "\(folder)/data", "--split", "all", "--json"])
        XCTAssertGreaterThan((try json(evaluated.stdout)["evaluation"] as? [String: Any])?["accuracy"] as? Double ?? 0, 0.8)
        // The training curves travel in the model file into the report.
        let report = try runPercept(["report", "\(folder)/softmax.percept", "-o", "\(folder)/softmax.html"])
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertTrue(try String(contentsOfFile: "\(folder)/softmax.html", encoding: .utf8).contains("Training curves"))
        let badArch = try runPercept(["train", "\(folder)/data", "--model", "cnn", "--arch", "\(folder)/nope.json"])
        XCTAssertEqual(badArch.status, 2)
        XCTAssertTrue(badArch.stderr.contains("nope.json"), badArch.stderr)
    }

    func testBadFlagsAreUsageErrors() throws {
        let run = try runPercept(["train", "\(folder)/data", "--model", "forest"])
        XCTAssertEqual(run.status, 1)
        let top = try runPercept(["predict", "m.percept", "x.png", "--top", "0"])
        XCTAssertEqual(top.status, 1)
        XCTAssertTrue(top.stderr.contains("--top"), top.stderr)
    }
}

/// `percept report`: a self-contained page, rendered by headless Chromium when it is installed.
final class ReportTests: XCTestCase {
    func testReportIsSelfContainedAndRendersWithoutErrors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("percept-report-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let drawn = try runPercept(["dataset", "synthesize", "-o", "\(folder)/shapes", "--folders", "--per-class", "20",
                                    "--size", "16x16"])
        XCTAssertEqual(drawn.status, 0, drawn.stderr)
        XCTAssertEqual(try runPercept(["train", "\(folder)/shapes", "--model", "ncm", "-o", "\(folder)/m.percept"]).status, 0)
        let run = try runPercept(["report", "\(folder)/m.percept", "\(folder)/shapes", "-o", "\(folder)/r.html"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let html = try String(contentsOfFile: "\(folder)/r.html", encoding: .utf8)
        for section in ["id=\"model\"", "id=\"dataset\"", "id=\"evaluation\"", "Confusion matrix", "<svg", "data:image/png;base64,"] {
            XCTAssertTrue(html.contains(section), "missing \(section)")
        }
        // Nothing fetched from anywhere: no external URLs in src/href.
        XCTAssertNil(html.range(of: #"(src|href)="(https?:)?//"#, options: .regularExpression))
        // Ten labels under 100 images: summarised, not ten lines.
        XCTAssertTrue(html.contains("more few-images warnings"), "warnings not summarised")

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/check-report-html").path
        let check = try runProcess("/bin/bash", [script, "\(folder)/r.html"])
        let message = check.stderr
        if check.status == 77 { throw XCTSkip("headless Chromium is not installed: \(message)") }
        XCTAssertEqual(check.status, 0, message)
    }
}

/// The README's Swift example is `Examples/QuickStart/main.swift` between its markers, and it runs.
final class QuickStartTests: XCTestCase {
    func testReadmeExampleIsTheBuiltProgramAndItRuns() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let program = try String(contentsOf: root.appendingPathComponent("Examples/QuickStart/main.swift"), encoding: .utf8)
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let body = try XCTUnwrap(program.components(separatedBy: "// README-BEGIN\n").last?
            .components(separatedBy: "// README-END").first)
        XCTAssertTrue(readme.contains(body + "```"),
                      "README's Swift example differs from Examples/QuickStart/main.swift")

        let binary = [".build/debug/percept-quickstart", ".build/release/percept-quickstart"]
            .map { root.appendingPathComponent($0).path }.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let binary else { throw XCTSkip("percept-quickstart is not built") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("quickstart-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        XCTAssertEqual(try runPercept(["dataset", "synthesize", "-o", "\(folder)/shapes", "--folders", "--per-class", "20"]).status, 0)
        let run = try runProcess(binary, ["\(folder)/shapes", "\(folder)/shapes/circle/00000.png"], in: folder)
        let output = run.stdout
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(output.contains("test accuracy"), output)
        XCTAssertTrue(output.contains("weighted avg"), output)
        XCTAssertTrue(output.contains("circle/00000.png"), output)
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(folder)/quickstart.percept"))
    }
}
