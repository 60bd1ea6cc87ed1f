import XCTest
import Foundation
import PerceptCore
import PerceptData
import TestSupport
@testable import PerceptNetwork
import PerceptModelKit
import PerceptPreprocessing

final class TrainingTests: XCTestCase {
    /// 16×16 synthetic shapes: 10 classes, `perClass` images each.
    func shapes(perClass: Int, seed: UInt64) throws -> Dataset {
        try SyntheticShapes(imageSize: .init(width: 16, height: 16), seed: seed).makeDataset(perClass: perClass)
    }

    func options(epochs: Int, seed: UInt64 = 3) -> TrainingOptions {
        var options = TrainingOptions()
        options.epochs = epochs
        options.batchSize = 32
        options.schedule = LearningRateSchedule(peak: 0.05, shape: .oneCycle(start: 0.2, peakAt: 0.25, final: 0.05))
        options.augmentation = Augmentation(translate: 1, flip: true, cutout: 0)
        options.seed = seed
        options.threads = 2
        return options
    }

    func testTinyNetworkLearnsTheSyntheticShapesWellAboveChance() throws {
        let train = try shapes(perClass: 40, seed: 1), validation = try shapes(perClass: 10, seed: 2)
        let trainer = Trainer(architecture: .tiny(widths: [8, 16]), options: options(epochs: 8))
        let result = try trainer.fit(train: train, validation: validation)
        let accuracy = try XCTUnwrap(result.history.bestValidationAccuracy)
        XCTAssertGreaterThan(accuracy, 0.35, "chance is 0.10; history: \(result.history.epochs.map(\.validationAccuracy))")
        XCTAssertLessThan(result.history.epochs.last!.trainLoss, result.history.epochs.first!.trainLoss)
        // The classifier API agrees with the trainer's own validation.
        let predicted = try result.model.predict(validation)
        let correct = zip(predicted, validation.labels).filter { $0 == $1 }.count
        XCTAssertEqual(Double(correct) / Double(validation.count), accuracy, accuracy: 1e-9)
    }

    func testArchiveRoundTripGivesIdenticalScores() throws {
        let train = try shapes(perClass: 6, seed: 4)
        let result = try Trainer(architecture: .tiny(widths: [4, 8]), options: options(epochs: 1)).fit(train: train)
        let archive = try result.model.archive()
        XCTAssertEqual(archive.kind, "cnn")
        let loaded = try ConvNetClassifier(archive: archive)
        XCTAssertEqual(try loaded.scores(for: train), try result.model.scores(for: train))
        // Scores are probabilities, and the one-pass ranking agrees with topK.
        let scores = try loaded.scores(for: train)
        XCTAssertEqual(Double(scores.scalars[0..<10].reduce(0, +)), 1, accuracy: 1e-5)
        let (rankings, probabilities) = try loaded.classRankingWithProbabilities(train, k: 3)
        XCTAssertEqual(rankings, try loaded.topK(train, k: 3))
        XCTAssertEqual(probabilities, scores)
        // Through the model file and back.
        let path = NSTemporaryDirectory() + "cnn-\(UUID().uuidString).percept"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ModelFile.write(result.model, to: path)
        XCTAssertEqual(try ConvNetClassifier(archive: ModelFile.read(path)).scores(for: train), scores)
        // Arrays of another architecture are refused, naming the array.
        var other = archive
        try other.setSettings(ConvNetClassifier.Settings(architecture: .tiny(widths: [4, 16]), normalization: .cifar10))
        XCTAssertThrowsError(try ConvNetClassifier(archive: other)) { XCTAssertTrue("\($0)".contains("norm2") || "\($0)".contains("conv2"), "\($0)") }
    }

    func testResumeGivesTheSameResultAsAnUninterruptedRun() throws {
        let train = try shapes(perClass: 6, seed: 5), validation = try shapes(perClass: 2, seed: 6)
        let directory = NSTemporaryDirectory() + "percept-resume-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var architecture = Architecture.tiny(widths: [4, 8])
        architecture.layers.insert(.dropout(0.1), at: architecture.layers.count - 1)

        var full = options(epochs: 3)
        full.emaDecay = 0.8  // the weight average is restored too
        full.checkpointPath = directory + "/full.ckpt"
        let uninterrupted = try Trainer(architecture: architecture, options: full).fit(train: train, validation: validation)

        // The same run, killed during epoch 2 (after epoch 1's checkpoint), then resumed.
        struct Kill: Error {}
        var interrupted = full
        interrupted.checkpointPath = directory + "/resumed.ckpt"
        XCTAssertThrowsError(try Trainer(architecture: architecture, options: interrupted).fit(train: train, validation: validation) {
            if $0.epoch == 2 && $0.step == 1 { throw Kill() }
        })
        let resumed = try Trainer(architecture: architecture, options: interrupted)
            .fit(train: train, validation: validation, resume: true)
        XCTAssertEqual(resumed.model.tensors, uninterrupted.model.tensors)
        XCTAssertEqual(resumed.history.epochs.map(\.trainLoss), uninterrupted.history.epochs.map(\.trainLoss))
        XCTAssertEqual(resumed.history.epochs.map(\.validationAccuracy), uninterrupted.history.epochs.map(\.validationAccuracy))

        // A checkpoint of another architecture refuses to load, clearly.
        XCTAssertThrowsError(try Trainer(architecture: .tiny(widths: [4, 4]), options: interrupted)
            .fit(train: train, validation: validation, resume: true)) { error in
            XCTAssertTrue("\(error)".contains("architecture"), "\(error)")
        }
        // A damaged checkpoint is reported as such.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: interrupted.checkpointPath!))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: interrupted.checkpointPath!))
        XCTAssertThrowsError(try Trainer(architecture: architecture, options: interrupted)
            .fit(train: train, validation: validation, resume: true)) { error in
            XCTAssertTrue("\(error)".contains("checksum"), "\(error)")
        }
    }

    func testWeightAverage() throws {
        let train = try shapes(perClass: 4, seed: 9)
        let architecture = Architecture.tiny(widths: [4, 8])
        var plain = options(epochs: 2)
        plain.keepBest = false
        let reference = try Trainer(architecture: architecture, options: plain).fit(train: train).model.tensors
        // Decay 0: the average is the latest weights.
        var zero = plain
        zero.emaDecay = 0
        XCTAssertEqual(try Trainer(architecture: architecture, options: zero).fit(train: train).model.tensors, reference)
        // Decay 1: the average never moves from the initial weights.
        var one = plain
        one.emaDecay = 1
        let frozen = try Trainer(architecture: architecture, options: one).fit(train: train).model.tensors
        let initial = try Network(architecture: architecture, inputShape: FeatureShape(height: 16, width: 16, channels: 3),
                                  classCount: 10, seed: plain.seed)
        for p in initial.parameters where p.trainable { XCTAssertEqual(frozen[p.name]?.scalars, p.value, p.name) }
        XCTAssertNotEqual(frozen["head.weight"], reference["head.weight"])
    }

    func testDivergingRunStopsNamingStepAndLearningRate() throws {
        let train = try shapes(perClass: 10, seed: 7)
        var options = options(epochs: 3)
        options.schedule = LearningRateSchedule(peak: 1e30)
        XCTAssertThrowsError(try Trainer(architecture: .tiny(widths: [4, 8]), options: options).fit(train: train)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("diverged at step") && message.contains("learning rate 1e+30"), message)
        }
    }

    func testBatchPipelineIsDeterministicAndAugments() throws {
        let data = try shapes(perClass: 3, seed: 8)
        func epochBatches(_ seed: UInt64, epoch: Int) -> [[Float]] {
            let pipeline = BatchPipeline(dataset: data, batchSize: 8, augmentation: Augmentation(translate: 2, flip: true, cutout: 4),
                                         normalization: .cifar10, seed: seed)
            pipeline.start(epoch: epoch)
            var batches: [[Float]] = []
            while let batch = pipeline.next() { batches.append(batch.images.array(batch.count * data.imageByteCount)) }
            return batches
        }
        let a = epochBatches(1, epoch: 0)
        XCTAssertEqual(a.count, 3)  // 30 images, batches of 8, last partial batch dropped
        XCTAssertEqual(a, epochBatches(1, epoch: 0))
        XCTAssertNotEqual(a, epochBatches(1, epoch: 1))
        XCTAssertNotEqual(a, epochBatches(2, epoch: 0))
    }

    func testAssemblyTransformsByHand() {
        // One 1×3 image, one channel: pixels 0, 51, 255; normalisation mean 0, std 1/255·… → values p/255.
        let pixels: [UInt8] = [0, 51, 255]
        let identity = Normalization(mean: [0], std: [1])
        func assemble(_ t: ImageTransform) -> [Float] {
            var out = [Float](repeating: -1, count: 3)
            pixels.withUnsafeBytes { raw in
                out.withUnsafeMutableBufferPointer { o in
                    BatchAssembly.assemble(pixels: raw, height: 1, width: 3, channels: 1, sources: [0], transforms: [t],
                                           normalization: identity, output: o.baseAddress!, threads: 1)
                }
            }
            return out
        }
        assertClose(assemble(.identity), [0, 0.2, 1])
        assertClose(assemble(ImageTransform(flip: true)), [1, 0.2, 0])
        // Shift by one to the right with reflection: x reads x+1, the last reads index 1 (reflected 3).
        assertClose(assemble(ImageTransform(dx: 1)), [0.2, 1, 0.2])
        assertClose(assemble(ImageTransform(dx: -2)), [1, 0.2, 0])
        assertClose(assemble(ImageTransform(cutoutY: 0, cutoutX: 1, cutoutSize: 1)), [0, 0, 1])
    }
}
