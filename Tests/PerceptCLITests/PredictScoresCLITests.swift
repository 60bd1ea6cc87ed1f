import Foundation
import Percept
import XCTest
import PerceptModelKit

/// `percept predict --scores`: the class-score table (one row per class, one column per image) and
/// its JSON carry exactly the scores the saved model gives through the library.
final class PredictScoresCLITests: XCTestCase {
    private var folder = ""
    private let classes = ["red", "green", "blue"]

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("percept-scores-\(UUID().uuidString)").path
        var random = SeededRandom(seed: 11)
        for (label, name) in classes.enumerated() {
            try FileManager.default.createDirectory(atPath: "\(folder)/data/\(name)", withIntermediateDirectories: true)
            for index in 0..<15 {
                var pixels = [UInt8](repeating: 0, count: 8 * 8 * 3)
                for i in pixels.indices { pixels[i] = UInt8(Int.random(in: 0..<90, using: &random) + (i % 3 == label ? 150 : 0)) }
                try Data(try Image(width: 8, height: 8, pixels: pixels).pngData())
                    .write(to: URL(fileURLWithPath: "\(folder)/data/\(name)/\(index).png"))
            }
        }
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: "\(folder)/notes.png"))
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    func testScoreTableAndJSONAreTheModelsScores() throws {
        let model = "\(folder)/svm.percept"
        let trained = try runPercept(["train", "\(folder)/data", "--model", "svm", "--epochs", "3", "-o", model])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let files = ["\(folder)/data/red/1.png", "\(folder)/data/blue/2.png", "\(folder)/data/green/3.png"]

        // The library's answer: the saved model's scores for the same decoded images.
        let saved = try SavedModel.load(model)
        XCTAssertTrue(saved.model is LinearClassifier, "\(type(of: saved.model))")
        let images = try files.map { try Image(contentsOfFile: $0) }
        let expected = try saved.model.scores(for: try Dataset(images: images, classNames: saved.classNames))
        XCTAssertEqual(expected.shape, [3, 3])
        XCTAssertGreaterThan(expected.scalars.map { abs($0) }.max() ?? 0, 0.01, "a trained model's scores are not all ~0")

        // Table: header of file names, then one row per class in the model's order, one column per image.
        let table = try runPercept(["predict", model] + files + ["--scores"])
        XCTAssertEqual(table.status, 0, table.stderr)
        let lines = table.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(lines.count, 1 + saved.classNames.count, table.stdout)
        XCTAssertEqual(lines.first, ["class", "1.png", "2.png", "3.png"], table.stdout)
        for (j, name) in saved.classNames.enumerated() {
            let row = lines[1 + j]
            XCTAssertEqual(row.first, name, table.stdout)
            XCTAssertEqual(row.count, 1 + files.count, table.stdout)
            for image in files.indices {
                let printed = try XCTUnwrap(Double(row[1 + image]), row[1 + image])
                XCTAssertEqual(printed, Double(expected.scalars[image * 3 + j]), accuracy: 0.0005 + 1e-9,
                               "\(name), image \(image): \(table.stdout)")
            }
        }
        // The columns line up: every line of the table has the same width.
        XCTAssertEqual(Set(table.stdout.split(separator: "\n").map(\.count)).count, 1, table.stdout)

        // JSON: each image's scores by class, at full precision; an unreadable file is reported, not fatal.
        let json = try runPercept(["predict", model] + files + ["\(folder)/notes.png", "--scores", "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let answers = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]], json.stdout)
        XCTAssertEqual(answers.count, 4)
        for (image, answer) in answers.prefix(3).enumerated() {
            XCTAssertEqual(answer["path"] as? String, files[image])
            let scores = try XCTUnwrap(answer["scores"] as? [[String: Any]], "\(answer)")
            XCTAssertEqual(scores.compactMap { $0["label"] as? String }, saved.classNames)
            for (j, score) in scores.enumerated() {
                XCTAssertEqual(score["score"] as? Double ?? .nan, Double(expected.scalars[image * 3 + j]), accuracy: 1e-6)
            }
        }
        XCTAssertTrue((answers[3]["error"] as? String)?.isEmpty == false, "\(answers[3])")
        XCTAssertEqual((answers[3]["scores"] as? [Any])?.count, 0)
    }

    func testScoresRejectCSVAndNamesUnreadableFiles() throws {
        let model = "\(folder)/softmax.percept"
        XCTAssertEqual(try runPercept(["train", "\(folder)/data", "--model", "softmax", "--epochs", "1", "-o", model]).status, 0)
        let csv = try runPercept(["predict", model, "\(folder)/data/red/0.png", "--scores", "--csv"])
        XCTAssertEqual(csv.status, 1, csv.stderr)
        XCTAssertTrue(csv.stderr.contains("--scores"), csv.stderr)
        let bad = try runPercept(["predict", model, "\(folder)/notes.png", "--scores"])
        XCTAssertEqual(bad.status, 2, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("notes.png"), bad.stderr)
        let strict = try runPercept(["predict", model, "\(folder)/data/red/0.png", "\(folder)/notes.png", "--scores", "--strict"])
        XCTAssertNotEqual(strict.status, 0)
        XCTAssertTrue(strict.stderr.contains("notes.png"), strict.stderr)
    }
}
