import Foundation
import PerceptCore
import PerceptData
import PerceptDistributed
import PerceptModelKit
@testable import PerceptNetwork
import PerceptPreprocessing
import TestSupport
import XCTest

/// Data-parallel training on ranks as threads (`ThreadGroup`): the same global batch and seed give
/// the single-process weights (no BatchNorm), identical weights on every rank (with BatchNorm), and
/// a checkpoint written by one number of ranks resumes under another.
final class DataParallelTrainingTests: XCTestCase {
    private func shapes(perClass: Int, seed: UInt64) throws -> Dataset {
        try SyntheticShapes(imageSize: .init(width: 12, height: 12), seed: seed).makeDataset(perClass: perClass)
    }

    /// `tiny` without its BatchNorm layers (and with conv biases): the backward pass is then the
    /// same sum whether the batch is split or not.
    private let withoutBatchNorm: Architecture = {
        var layers: [LayerSpec] = []
        for (index, width) in [4, 8].enumerated() {
            layers += [.conv(width, bias: true, name: "conv\(index + 1)"), .relu, .maxPool(2)]
        }
        layers += [.globalAveragePool, .flatten, .linear(name: "head")]
        return Architecture(name: "tiny-without-batchnorm", layers: layers)
    }()

    private func options(epochs: Int = 2, batchSize: Int = 20) -> TrainingOptions {
        var options = TrainingOptions()
        options.epochs = epochs
        options.batchSize = batchSize
        options.schedule = LearningRateSchedule(peak: 0.05, shape: .oneCycle(start: 0.2, peakAt: 0.25, final: 0.05))
        options.augmentation = Augmentation(translate: 1, flip: true, cutout: 0)
        options.seed = 7
        options.threads = 1
        options.keepBest = false
        return options
    }

    /// Every rank's trained weights and history.
    private func trainOnRanks(_ ranks: Int, architecture: Architecture, options: TrainingOptions, train: Dataset,
                              validation: Dataset?, resume: Bool = false,
                              progress: (@Sendable (TrainingProgress) throws -> Void)? = nil) throws -> [TrainingResult] {
        let job = RankJob(architecture: architecture, options: options, train: train, validation: validation,
                          resume: resume, progress: progress)
        return try ThreadGroup.run(size: ranks, job.run)
    }

    private func weights(_ result: TrainingResult) throws -> [String: Tensor] { result.model.tensors }

    private func assertSameWeights(_ actual: TrainingResult, _ expected: TrainingResult, rtol: Float, atol: Float,
                                   _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let a = try weights(actual), e = try weights(expected)
        XCTAssertEqual(a.keys.sorted(), e.keys.sorted(), message, file: file, line: line)
        for name in e.keys.sorted() {
            assertClose(a[name]?.scalars ?? [], e[name]?.scalars ?? [], rtol: rtol, atol: atol, "\(message): \(name)",
                        file: file, line: line)
        }
    }

    func testTwoAndThreeRanksTrainTheSingleProcessWeightsWithoutBatchNorm() throws {
        // 60 images, batch 20: three ranks split 7/7/6, two ranks 10/10; the last epoch is validated.
        let train = try shapes(perClass: 6, seed: 11), validation = try shapes(perClass: 3, seed: 12)
        let single = try Trainer(architecture: withoutBatchNorm, options: options()).fit(train: train, validation: validation)
        for ranks in [2, 3] {
            let results = try trainOnRanks(ranks, architecture: withoutBatchNorm, options: options(), train: train,
                                           validation: validation)
            for (rank, result) in results.enumerated() {
                try assertSameWeights(result, single, rtol: 1e-3, atol: 1e-5, "\(ranks) ranks, rank \(rank)")
                XCTAssertEqual(result.history.epochs.count, single.history.epochs.count)
                for (mine, theirs) in zip(result.history.epochs, single.history.epochs) {
                    assertClose(mine.trainLoss, theirs.trainLoss, rtol: 1e-4, atol: 1e-6, "\(ranks) ranks: training loss")
                    XCTAssertEqual(mine.trainAccuracy, theirs.trainAccuracy, "\(ranks) ranks: training accuracy")
                    XCTAssertEqual(mine.validationAccuracy, theirs.validationAccuracy, "\(ranks) ranks: validation accuracy")
                }
            }
        }
        // The test can fail: another seed trains other weights.
        var other = options()
        other.seed = 8
        let elsewhere = try Trainer(architecture: withoutBatchNorm, options: other).fit(train: train)
        XCTAssertNotEqual(try weights(elsewhere)["conv1.weight"], try weights(single)["conv1.weight"])
    }

    func testRanksWithBatchNormEndWithIdenticalWeightsAndLearn() throws {
        let train = try shapes(perClass: 16, seed: 13), validation = try shapes(perClass: 4, seed: 14)
        var options = options(epochs: 6, batchSize: 32)
        options.keepBest = true
        let results = try trainOnRanks(2, architecture: .tiny(widths: [8, 16]), options: options, train: train,
                                       validation: validation)
        // Weights, BatchNorm running statistics and the chosen epoch: bit for bit the same on both ranks.
        XCTAssertEqual(try weights(results[1]), try weights(results[0]))
        XCTAssertEqual(results[1].history.bestEpoch, results[0].history.bestEpoch)
        let accuracy = try XCTUnwrap(results[0].history.bestValidationAccuracy)
        XCTAssertGreaterThan(accuracy, 0.3, "chance is 0.10: \(results[0].history.epochs.map(\.validationAccuracy))")
        // The model's own predictions agree with the validation the ranks shared out.
        let predicted = try results[0].model.predict(validation)
        XCTAssertEqual(Double(zip(predicted, validation.labels).filter { $0 == $1 }.count) / Double(validation.count),
                       accuracy, accuracy: 1e-12)
    }

    func testACheckpointFromTwoRanksResumesOnThreeAndOnOne() throws {
        let train = try shapes(perClass: 6, seed: 15)
        let directory = NSTemporaryDirectory() + "percept-dp-resume-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let uninterrupted = try Trainer(architecture: withoutBatchNorm, options: options(epochs: 3)).fit(train: train)
        struct Kill: Error {}
        for resumedRanks in [3, 1] {
            var interrupted = options(epochs: 3)
            interrupted.checkpointPath = directory + "/run-\(resumedRanks).ckpt"
            // Two ranks, killed at the first step of epoch 3 (rank 0's progress throws, ending the job).
            XCTAssertThrowsError(try trainOnRanks(2, architecture: withoutBatchNorm, options: interrupted, train: train,
                                                  validation: nil) { if $0.epoch == 3 && $0.step == 1 { throw Kill() } })
            // Written by rank 0, with the global state after 2 epochs.
            let checkpoint = try Checkpoint.read(try XCTUnwrap(interrupted.checkpointPath))
            XCTAssertEqual(checkpoint.header.completedEpochs, 2)
            let resumed = try trainOnRanks(resumedRanks, architecture: withoutBatchNorm, options: interrupted, train: train,
                                           validation: nil, resume: true)
            try assertSameWeights(resumed[0], uninterrupted, rtol: 1e-3, atol: 1e-5, "2 ranks then \(resumedRanks)")
            XCTAssertEqual(resumed[0].history.epochs.count, 3)
        }
    }

    func testABatchSmallerThanTheRanksIsRefused() throws {
        let train = try shapes(perClass: 1, seed: 16)
        XCTAssertThrowsError(try trainOnRanks(3, architecture: withoutBatchNorm, options: options(batchSize: 2),
                                              train: train, validation: nil)) { error in
            XCTAssertTrue("\(error)".contains("cannot be split across 3 ranks"), "\(error)")
        }
    }

    func testShardsOfABatchTogetherAreTheSingleProcessBatch() throws {
        let train = try shapes(perClass: 5, seed: 17)   // 50 images: two batches of 20 an epoch
        func batch(rank: Int, ranks: Int) -> (images: [Float], labels: [Int32], global: Int) {
            let pipeline = BatchPipeline(dataset: train, batchSize: 20, augmentation: Augmentation(translate: 2, flip: true, cutout: 4),
                                         normalization: .cifar10, seed: 5)
            (pipeline.rank, pipeline.ranks) = (rank, ranks)
            pipeline.start(epoch: 1)
            _ = pipeline.next()
            guard let second = pipeline.next() else { return ([], [], 0) }
            return (Array(UnsafeBufferPointer(start: second.images.pointer, count: second.count * train.imageByteCount)),
                    second.labels, second.globalCount)
        }
        let whole = batch(rank: 0, ranks: 1)
        let shards = (0..<3).map { batch(rank: $0, ranks: 3) }
        XCTAssertEqual(shards.map(\.labels.count), [7, 7, 6])
        XCTAssertEqual(shards.map(\.global), [20, 20, 20])
        XCTAssertEqual(shards.flatMap(\.labels), whole.labels)
        XCTAssertEqual(shards.flatMap(\.images), whole.images)
    }
}

/// One rank's part of a data-parallel test run.
private struct RankJob: Sendable {
    var architecture: Architecture
    var options: TrainingOptions
    var train: Dataset
    var validation: Dataset?
    var resume: Bool
    var progress: (@Sendable (TrainingProgress) throws -> Void)?

    func run(_ communicator: Communicator) throws -> TrainingResult {
        let trainer = Trainer(architecture: architecture, options: options, communicator: communicator)
        if communicator.isRoot, let progress {
            return try trainer.fit(train: train, validation: validation, resume: resume, progress: progress)
        }
        return try trainer.fit(train: train, validation: validation, resume: resume)
    }
}
