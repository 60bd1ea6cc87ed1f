import XCTest
@testable import Percept

/// The transfer family end to end on the built-in random-features backbone (no ONNX runtime
/// needed): it learns, saves and reloads, caches features and notices changed data, and names
/// what is wrong with a bad backbone or model file.
final class TransferFamilyTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("transfer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func shapes(perClass: Int, seed: UInt64) throws -> Dataset {
        try SyntheticShapes(imageSize: ImageSize(width: 32, height: 32), seed: seed).makeDataset(perClass: perClass)
    }

    func testLearnsSyntheticShapesWellAboveChanceAndChoosesL2OnValidation() throws {
        let train = try shapes(perClass: 40, seed: 1), validation = try shapes(perClass: 10, seed: 2)
        let settings = try TransferFamily.settings(["backbone": "random-features", "feature-cache": "none", "epochs": "100"])
        var lines: [String] = []
        let trained = try TransferFamily.train(settings, TrainingJob(train: train, validation: validation, seed: 0) { lines.append($0) })
        let accuracy = try XCTUnwrap(trained.validationAccuracy)
        XCTAssertGreaterThan(accuracy, 0.3, "ten classes, chance 10%")
        let model = try XCTUnwrap(trained.model as? TransferModel)
        XCTAssertEqual(model.trials.map(\.l2), HeadTrainer.l2Grid, "every L2 of the grid is tried")
        let best = try XCTUnwrap(model.trials.map(\.validationAccuracy).max())
        XCTAssertEqual(model.trials.first { $0.l2 == model.l2 }?.validationAccuracy, best, "the chosen L2 is the best on validation")
        XCTAssertTrue(lines.contains { $0.contains("chose L2") }, "\(lines)")
        // Measured from the cached features, as the model itself predicts.
        let fitted = try TransferFamily.fit(settings, TrainingJob(train: train, validation: validation, seed: 0))
        XCTAssertEqual(fitted.validationPredictions, try fitted.model.predict(validation))
    }

    func testMLPHeadLearnsAndAGivenL2IsUsedAlone() throws {
        let train = try shapes(perClass: 20, seed: 1), validation = try shapes(perClass: 5, seed: 2)
        let settings = try TransferFamily.settings(["backbone": "random-features", "feature-cache": "none", "head": "mlp",
                                                    "hidden": "32", "l2": "0.001", "epochs": "60"])
        let trained = try TransferFamily.train(settings, TrainingJob(train: train, validation: validation, seed: 0))
        XCTAssertGreaterThan(try XCTUnwrap(trained.validationAccuracy), 0.25)
        let model = try XCTUnwrap(trained.model as? TransferModel)
        XCTAssertEqual(model.head.kind, .mlp)
        XCTAssertEqual(model.trials.map(\.l2), [0.001])
    }

    func testSavedModelPredictsTheSameAfterLoading() throws {
        let train = try shapes(perClass: 8, seed: 1), validation = try shapes(perClass: 3, seed: 2)
        for head in ["softmax", "mlp"] {
            let settings = try TransferFamily.settings(["backbone": "random-features", "feature-cache": "none", "head": head,
                                                        "hidden": "8", "epochs": "20"])
            let trained = try TransferFamily.train(settings, TrainingJob(train: train, validation: validation, seed: 0))
            let path = "\(folder)/\(head).percept"
            try ModelFile.write(trained.model, to: path, resizeMode: "center-crop", metadata: ["family": "transfer"])
            let saved = try SavedModel.load(path)
            XCTAssertTrue(saved.family == TransferFamily.self)
            XCTAssertEqual(saved.inputShape, [32, 32, 3])
            XCTAssertEqual(try saved.model.scores(for: validation).scalars, try trained.model.scores(for: validation).scalars, head)
            let figures = try TransferFamily.figures(for: saved, evaluatedOn: nil)
            XCTAssertEqual(figures.count, 1, "the validation curve over L2")
        }
    }

    func testFeatureCacheHitsForTheSameDataAndMissesWhenAPixelChanges() throws {
        let cache = FeatureCache(folder: "\(folder)/features")
        let backbone = Backbone.randomFeatures(seed: 4)
        let data = try shapes(perClass: 3, seed: 1)
        let first = try cache.features(of: data, through: backbone)
        XCTAssertFalse(first.cached)
        let second = try cache.features(of: data, through: backbone)
        XCTAssertTrue(second.cached)
        XCTAssertEqual(second.features, first.features)
        // Another backbone (seed) or one changed pixel: a new key, features recomputed.
        XCTAssertFalse(try cache.features(of: data, through: Backbone.randomFeatures(seed: 5)).cached)
        var pixels = Array(data.pixels.bytes)
        pixels[17] = pixels[17] &+ 1
        let changed = try Dataset(height: data.height, width: data.width, pixels: PixelStorage(copying: pixels),
                                  labels: data.labels, classNames: data.classNames)
        XCTAssertNotEqual(FeatureCache.key(changed, backbone.spec), FeatureCache.key(data, backbone.spec))
        XCTAssertFalse(try cache.features(of: changed, through: backbone).cached)
        // A damaged cache file is recomputed, not trusted.
        let file = cache.path(FeatureCache.key(data, backbone.spec))
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: file))
        let recomputed = try cache.features(of: data, through: backbone)
        XCTAssertFalse(recomputed.cached)
        XCTAssertEqual(recomputed.features, first.features)
    }

    func testSecondTrainingReadsTheCachedFeatures() throws {
        let train = try shapes(perClass: 4, seed: 1), validation = try shapes(perClass: 2, seed: 2)
        var lines: [String] = []
        for head in ["softmax", "mlp"] {
            let settings = try TransferFamily.settings(["backbone": "random-features", "feature-cache": "\(folder)/features",
                                                        "head": head, "hidden": "4", "epochs": "5"])
            _ = try TransferFamily.train(settings, TrainingJob(train: train, validation: validation) { lines.append($0) })
        }
        XCTAssertEqual(lines.filter { $0.contains("from the cache") }.count, 2, "train and validation features, second run: \(lines)")
    }

    func testFineTuningTrainsTheLastBlocksAndTheModelKeepsTheTunedGraph() throws {
        let path = try TinyBackbone.write(TinyBackbone.trainable())
        let train = try shapes(perClass: 12, seed: 1), validation = try shapes(perClass: 4, seed: 2)
        var lines: [String] = []
        let frozen = try TransferFamily.train(try TransferFamily.settings(["backbone": path, "feature-cache": "none", "epochs": "50"]),
                                              TrainingJob(train: train, validation: validation, seed: 0))
        let settings = try TransferFamily.settings(["backbone": path, "feature-cache": "none", "epochs": "50", "fine-tune": "2",
                                                    "fine-tune-epochs": "6", "fine-tune-lr": "0.01"])
        let tuned = try TransferFamily.train(settings, TrainingJob(train: train, validation: validation, seed: 0) { lines.append($0) })
        XCTAssertTrue(lines.contains { $0.contains("fine-tuning the last 2 block(s) from 'stem_out'") }, "\(lines)")
        XCTAssertEqual(lines.filter { $0.contains("fine-tune epoch") }.count, 6, "\(lines)")
        let epochs = try XCTUnwrap(tuned.history?.epochs)
        XCTAssertEqual(epochs.count, 6)
        XCTAssertLessThan(epochs.last!.trainLoss, epochs.first!.trainLoss, "\(epochs.map(\.trainLoss))")
        let model = try XCTUnwrap(tuned.model as? TransferModel)
        let original = try XCTUnwrap((frozen.model as? TransferModel)?.backbone.onnxBytes)
        XCTAssertNotEqual(model.backbone.onnxBytes, original, "the graph's weights were trained")
        XCTAssertGreaterThan(try XCTUnwrap(tuned.validationAccuracy), 0.1, "ten classes")
        // Saved and loaded, it scores as trained: the tuned graph travels inside the model file.
        let file = "\(folder)/tuned.percept"
        try ModelFile.write(tuned.model, to: file, resizeMode: "center-crop", metadata: ["family": "transfer"])
        let saved = try SavedModel.load(file)
        let before = try tuned.model.scores(for: validation).scalars, after = try saved.model.scores(for: validation).scalars
        XCTAssertEqual(before.count, after.count)
        XCTAssertLessThanOrEqual(zip(before, after).map { abs($0 - $1) }.max() ?? 1, 1e-5)
        // An MLP head is refused with fine-tuning, saying what to do.
        let mlp = try TransferFamily.settings(["backbone": path, "feature-cache": "none", "head": "mlp", "fine-tune": "1",
                                               "epochs": "5"])
        XCTAssertThrowsError(try TransferFamily.train(mlp, TrainingJob(train: train, validation: validation))) { error in
            XCTAssertTrue("\(error)".contains("--head mlp"), "\(error)")
        }
    }

    func testUnknownBackboneNameSaysHowToAddOne() throws {
        let store = BackboneStore(folder: "\(folder)/backbones")
        XCTAssertThrowsError(try store.resolve("mobilenet")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("'mobilenet'") && text.contains("percept backbone add"), text)
        }
    }

    func testDamagedOrMissingEmbeddedBackboneIsNamed() throws {
        let train = try shapes(perClass: 3, seed: 1)
        let trained = try TransferFamily.train(try TransferFamily.settings(["backbone": "random-features", "feature-cache": "none",
                                                                           "epochs": "3"]),
                                               TrainingJob(train: train, validation: nil))
        var archive = try trained.model.archive()
        // Pretend the model carries an ONNX backbone whose bytes no longer match their checksum.
        var settings = try archive.settings(as: TransferModel.Settings.self)
        settings.backbone.source = .onnx
        settings.backbone.sha256 = String(repeating: "0", count: 64)
        try archive.setSettings(settings)
        archive.blobs["backbone.onnx"] = Array("not the backbone".utf8)
        let damaged = "\(folder)/damaged.percept"
        try ModelFile.write(archive, to: damaged)
        XCTAssertThrowsError(try SavedModel.load(damaged)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(damaged) && text.contains("damaged") && text.contains("train the model again"), text)
        }
        archive.blobs["backbone.onnx"] = nil
        let missing = "\(folder)/missing.percept"
        try ModelFile.write(archive, to: missing)
        XCTAssertThrowsError(try SavedModel.load(missing)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(missing) && text.contains("missing"), text)
        }
    }
}
