import XCTest
import Foundation
import Percept

/// Every registered family trains, saves and comes back through `SavedModel.load` with the same
/// answers, and the registry's bookkeeping (names, kinds, options) is consistent.
final class ModelRegistryTests: XCTestCase {
    /// Three colour classes at 8×8: easy enough that every family beats chance quickly.
    private func colours(perClass: Int, seed: UInt64) throws -> Dataset {
        try SyntheticColours.dataset(perClass: perClass, seed: seed)
    }

    func testNamesAndKindsAreUniqueAndResolve() throws {
        XCTAssertEqual(Set(ModelRegistry.names).count, ModelRegistry.names.count)
        for family in ModelRegistry.families {
            XCTAssertTrue(try ModelRegistry.family(named: family.name) == family)
            XCTAssertFalse(family.modelTypes.isEmpty, family.name)
            for type in family.modelTypes {
                XCTAssertNotNil(ModelRegistry.modelType(kind: type.kind), "\(family.name): \(type.kind)")
            }
            let names = family.parameters.map(\.name)
            XCTAssertEqual(Set(names).count, names.count, "\(family.name) declares an option twice")
            // Every declared default is a valid value of its own option.
            XCTAssertNoThrow(try family.settings(Dictionary(uniqueKeysWithValues: family.parameters.compactMap { p in
                p.defaultValue.map { (p.name, $0) }
            })), family.name)
        }
        XCTAssertThrowsError(try ModelRegistry.family(named: "forest")) { error in
            XCTAssertTrue("\(error)".contains("knn"), "the error lists the families: \(error)")
        }
    }

    func testSettingsParseAndRefuseWithTheOptionNamed() throws {
        let settings = try KNearestNeighborsFamily.settings(arguments: ["--k", "5", "--metric=l1"])
        XCTAssertEqual(settings.integer("k"), 5)
        XCTAssertEqual(settings.text("metric"), "l1")
        XCTAssertEqual(settings.text("weighting"), "uniform", "defaults fill in")
        XCTAssertFalse(settings.isGiven("weighting"))
        let cnn = try ConvNetFamily.settings(arguments: ["--resume", "--checkpoint", "run.ckpt", "--lr", "0.05"])
        XCTAssertTrue(cnn.flag("resume"))
        XCTAssertEqual(cnn.number("lr"), 0.05)
        let refusals: [([String], String)] = [
            (["--k", "0"], "--k"), (["--k", "two"], "--k"), (["--metric", "l3"], "l1, l2 or cosine"),
            (["--hidden", "5"], "not an option of knn"), (["--k"], "needs a value"), (["5"], "unexpected"),
        ]
        for (arguments, expected) in refusals {
            XCTAssertThrowsError(try KNearestNeighborsFamily.settings(arguments: arguments), "\(arguments)") { error in
                XCTAssertTrue("\(error)".contains(expected), "\(arguments): \(error)")
            }
        }
        XCTAssertThrowsError(try SoftmaxFamily.settings(["lr": "-1"]))
        XCTAssertNoThrow(try SoftmaxFamily.settings(["reg": "0"]), "zero regularisation is allowed")
    }

    func testEveryFamilyTrainsSavesAndLoadsWithTheSameAnswers() throws {
        let train = try colours(perClass: 24, seed: 1), validation = try colours(perClass: 6, seed: 2)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("registry-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let quick: [String: [String: String]] = ["svm": ["epochs": "3"], "softmax": ["epochs": "3"],
                                                  "mlp": ["epochs": "3", "hidden": "16"],
                                                  "cnn": ["epochs": "2", "batch": "16"],
                                                  "transfer": ["backbone": "random-features", "feature-cache": "none"]]
        for family in ModelRegistry.families {
            var lines: [String] = []
            let job = TrainingJob(train: train, validation: validation, seed: 3, threads: 1) { lines.append($0) }
            let trained = try family.train(try family.settings(quick[family.name] ?? [:]), job)
            let accuracy = try XCTUnwrap(trained.validationAccuracy, family.name)
            XCTAssertGreaterThan(accuracy, 0.5, "\(family.name) on three colours (chance 1/3)")
            let path = "\(folder)/\(family.name).percept"
            try ModelFile.write(trained.model, to: path, resizeMode: "squash", metadata: ["family": family.name])
            let saved = try SavedModel.load(path)
            XCTAssertTrue(saved.family == family, "\(family.name) loads as \(String(describing: saved.family))")
            XCTAssertEqual(try saved.model.scores(for: validation).scalars, try trained.model.scores(for: validation).scalars,
                           family.name)
            if trained.history != nil { XCTAssertFalse(lines.isEmpty, "\(family.name) reports progress") }
        }
    }

    func testResumeWithoutACheckpointIsRefused() throws {
        let train = try colours(perClass: 4, seed: 1)
        XCTAssertThrowsError(try ConvNetFamily.fit(try ConvNetFamily.settings(["resume": "true"]),
                                                  TrainingJob(train: train, validation: nil))) { error in
            XCTAssertTrue("\(error)".contains("--checkpoint"), "\(error)")
        }
    }
}

/// Solid colours with a little seeded noise, one class per colour.
enum SyntheticColours {
    static func dataset(perClass: Int, seed: UInt64) throws -> Dataset {
        var random = SeededRandom(seed: seed)
        let colours: [[UInt8]] = [[220, 30, 30], [30, 200, 40], [40, 50, 210]]
        var pixels: [UInt8] = [], labels: [Int32] = []
        for index in 0..<(perClass * colours.count) {
            let label = index % colours.count
            for _ in 0..<64 { for channel in colours[label] { pixels.append(UInt8(clamping: Int(channel) + Int(random.next() % 40) - 20)) } }
            labels.append(Int32(label))
        }
        return try Dataset(height: 8, width: 8, channels: 3, pixels: PixelStorage(copying: pixels), labels: labels,
                           classNames: ["red", "green", "blue"])
    }
}
