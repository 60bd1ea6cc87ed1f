import Foundation
import TestSupport
import XCTest
@testable import Percept

/// The transfer family with its work split across ranks (threads of a `ThreadGroup`): each rank
/// extracts its share's features and runs its share of each fine-tuning batch, and every rank ends
/// with the head, the choice of L2, the validation predictions and the tuned weights of one process.
final class TransferDataParallelTests: XCTestCase {
    private func shapes(perClass: Int, seed: UInt64, size: Int = 32) throws -> Dataset {
        try SyntheticShapes(imageSize: ImageSize(width: size, height: size), seed: seed).makeDataset(perClass: perClass)
    }

    /// The fitted model and validation predictions on `ranks` ranks; one entry per rank.
    private func fit(_ settings: ModelSettings, train: Dataset, validation: Dataset, ranks: Int) throws -> [FittedModel] {
        try ThreadGroup.run(size: ranks) { communicator in
            try TransferFamily.fit(settings, TrainingJob(train: train, validation: validation, seed: 3, threads: 1,
                                                         communicator: communicator))
        }
    }

    /// `headTolerance`: how far the heads' numbers may be apart — rounding alone after a few steps,
    /// the optimiser's stopping tolerance after a fit to convergence.
    private func assertSameModel(_ fitted: FittedModel, _ expected: FittedModel, _ what: String, headTolerance: Float = 1e-4,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try XCTUnwrap(fitted.model as? TransferModel), reference = try XCTUnwrap(expected.model as? TransferModel)
        assertClose(model.standardization.mean, reference.standardization.mean, rtol: 1e-5, atol: 1e-6, "\(what): mean",
                    file: file, line: line)
        assertClose(model.standardization.scale, reference.standardization.scale, rtol: 1e-5, atol: 1e-6, "\(what): scale",
                    file: file, line: line)
        assertClose(model.head.parameters, reference.head.parameters, rtol: 1e-3, atol: headTolerance, "\(what): head",
                    file: file, line: line)
        XCTAssertEqual(model.l2, reference.l2, "\(what): the chosen L2", file: file, line: line)
        XCTAssertEqual(model.trials.map(\.validationAccuracy), reference.trials.map(\.validationAccuracy), what,
                       file: file, line: line)
        XCTAssertEqual(fitted.validationPredictions, expected.validationPredictions, what, file: file, line: line)
    }

    /// One L-BFGS iteration shows the ranks' summed loss and gradient are the whole set's; a fit run
    /// to convergence (a strongly convex softmax, a strongly regularised MLP) lands on the same head
    /// within the optimiser's stopping tolerance. (L-BFGS takes its path from the loss and gradient
    /// to the last bit, and those differ by rounding between one and several ranks; near L2 = 0 the
    /// fit is ill-conditioned and stops before converging, where such paths end apart: the comparison
    /// is made where the answer is unique.)
    func testFrozenHeadsOnTwoAndThreeRanksMatchOneProcess() throws {
        // 50 training and 30 validation images: 3 ranks hold 17/17/16 and 10/10/10.
        let train = try shapes(perClass: 5, seed: 1), validation = try shapes(perClass: 3, seed: 2)
        let cases: [[String: String]] = [["head": "softmax", "l2": "0.01", "epochs": "1"],
                                         ["head": "softmax", "l2": "0.1", "epochs": "300"],
                                         ["head": "mlp", "hidden": "8", "l2": "0.1", "epochs": "1"],
                                         ["head": "mlp", "hidden": "8", "l2": "0.1", "epochs": "40"]]
        for values in cases {
            let settings = try TransferFamily.settings(values.merging(["backbone": "random-features", "feature-cache": "none"]) { a, _ in a })
            let single = try TransferFamily.fit(settings, TrainingJob(train: train, validation: validation, seed: 3, threads: 1))
            XCTAssertNotNil(single.validationPredictions)
            for ranks in [2, 3] {
                let fitted = try fit(settings, train: train, validation: validation, ranks: ranks)
                for (rank, result) in fitted.enumerated() {
                    try assertSameModel(result, single, "\(values), \(ranks) ranks, rank \(rank)",
                                        headTolerance: values["epochs"] == "1" ? 1e-5 : 2e-3)
                }
                // Every rank applied the same steps: identical, not merely close.
                XCTAssertEqual(Set(fitted.compactMap { ($0.model as? TransferModel)?.head.parameters }).count, 1)
            }
        }
        // The comparison can fail: other training images give another head.
        let settings = try TransferFamily.settings(["backbone": "random-features", "feature-cache": "none", "l2": "0.01"])
        let other = try TransferFamily.fit(settings, TrainingJob(train: try shapes(perClass: 5, seed: 9), validation: validation))
        let reference = try TransferFamily.fit(settings, TrainingJob(train: train, validation: validation))
        XCTAssertNotEqual((other.model as? TransferModel)?.head.parameters, (reference.model as? TransferModel)?.head.parameters)
    }

    func testTheL2SearchRunsOnRanksAndEveryRankChoosesAlike() throws {
        let train = try shapes(perClass: 5, seed: 1), validation = try shapes(perClass: 3, seed: 2)
        let settings = try TransferFamily.settings(["backbone": "random-features", "feature-cache": "none", "epochs": "30"])
        let fitted = try fit(settings, train: train, validation: validation, ranks: 2)
        let models = fitted.compactMap { $0.model as? TransferModel }
        XCTAssertEqual(models.count, 2)
        XCTAssertEqual(models[0].trials.map(\.l2), HeadTrainer.l2Grid, "every L2 of the grid is tried")
        XCTAssertEqual(models[0].trials, models[1].trials)
        XCTAssertEqual(models[0].head, models[1].head)
        let best = try XCTUnwrap(models[0].trials.map(\.validationAccuracy).max())
        XCTAssertEqual(models[0].trials.first { $0.l2 == models[0].l2 }?.validationAccuracy, best)
        // The accuracies are the whole validation set's: multiples of 1/30.
        for trial in models[0].trials {
            XCTAssertEqual(trial.validationAccuracy * 30, (trial.validationAccuracy * 30).rounded(), accuracy: 1e-9)
        }
    }

    func testFineTuningOnTwoAndThreeRanksMatchesOneProcess() throws {
        let path = try TinyBackbone.write(TinyBackbone.trainable())
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        // 40 images in batches of 32 (the last 8): 3 ranks hold 14/13/13 images, and a batch's members
        // fall on the ranks as the shuffle puts them.
        let train = try shapes(perClass: 4, seed: 1, size: 16), validation = try shapes(perClass: 2, seed: 2, size: 16)
        // One L-BFGS iteration gives the frozen head of one process to rounding (see above); tuning goes on from it.
        let settings = try TransferFamily.settings(["backbone": path, "feature-cache": "none", "epochs": "1", "l2": "0.01",
                                                    "fine-tune": "2", "fine-tune-epochs": "3", "fine-tune-lr": "0.01"])
        let single = try TransferFamily.fit(settings, TrainingJob(train: train, validation: validation, seed: 3, threads: 1))
        let singleModel = try XCTUnwrap(single.model as? TransferModel)
        let singleScores = try singleModel.scores(for: validation).scalars
        for ranks in [2, 3] {
            let fitted = try fit(settings, train: train, validation: validation, ranks: ranks)
            for (rank, result) in fitted.enumerated() {
                let what = "\(ranks) ranks, rank \(rank)"
                let model = try XCTUnwrap(result.model as? TransferModel)
                assertClose(model.head.parameters, singleModel.head.parameters, rtol: 1e-3, atol: 1e-4, "\(what): head")
                // The tuned graph scores as the single process's does.
                assertClose(try model.scores(for: validation).scalars, singleScores, rtol: 1e-3, atol: 1e-4, "\(what): scores")
                let losses = try XCTUnwrap(result.history?.epochs.map(\.trainLoss))
                let expected = try XCTUnwrap(single.history?.epochs.map(\.trainLoss))
                assertClose(losses.map(Float.init), expected.map(Float.init), rtol: 1e-4, atol: 1e-6, "\(what): epoch losses")
                XCTAssertEqual(result.history?.epochs.map(\.trainAccuracy), single.history?.epochs.map(\.trainAccuracy), what)
                XCTAssertEqual(result.validationPredictions, single.validationPredictions, what)
            }
            XCTAssertEqual(Set(fitted.compactMap { ($0.model as? TransferModel)?.backbone.onnxBytes }).count, 1,
                           "every rank holds the same tuned graph")
        }
    }

    func testMoreRanksThanTrainingImagesIsRefused() throws {
        let train = try shapes(perClass: 1, seed: 1)
        let settings = try TransferFamily.settings(["backbone": "random-features", "feature-cache": "none"])
        XCTAssertThrowsError(try ThreadGroup.run(size: 11) { communicator in
            try TransferFamily.fit(settings, TrainingJob(train: train, validation: nil, communicator: communicator))
        }) { error in
            XCTAssertTrue("\(error)".contains("at least as many training images"), "\(error)")
        }
    }
}
