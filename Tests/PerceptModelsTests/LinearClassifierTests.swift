import Foundation
import XCTest
import PerceptCore
import PerceptData
@testable import PerceptModels
import PerceptPreprocessing
import TestSupport
import PerceptModelKit

/// Three classes of 1×2 "images", each a tight cluster far from the others: linearly separable.
func separableToySet(perClass: Int = 20, seed: UInt64 = 1) throws -> Dataset {
    var random = SeededRandom(seed: seed)
    let centres: [(UInt8, UInt8)] = [(220, 30), (30, 220), (220, 220)]
    var rows: [[UInt8]] = [], labels: [Int32] = []
    for (label, centre) in centres.enumerated() {
        for _ in 0..<perClass {
            rows.append([centre.0 &+ UInt8(random.next() % 30), centre.1 &+ UInt8(random.next() % 30)])
            labels.append(Int32(label))
        }
    }
    return try tinyDataset(rows, labels: labels, classNames: ["a", "b", "c"])
}

final class LinearClassifierTests: XCTestCase {
    private func toyOptions(_ learningRate: Float = 0.05) -> SGDOptions {
        SGDOptions(learningRate: learningRate, regularization: 1e-4, momentum: 0.9, learningRateDecay: 0.98,
                   batchSize: 10, epochs: 40, seed: 3, threads: 1)
    }

    func testSeparableToySetReaches100PercentWithBothLosses() throws {
        let data = try separableToySet()
        for loss in ClassificationLoss.allCases {
            var model = LinearClassifier(loss: loss, preprocessing: .channelStandardization, options: toyOptions())
            let history = try model.fit(data, validation: data)
            XCTAssertEqual(try model.predict(data), data.labels, "\(loss)")
            XCTAssertEqual(history.validationAccuracies.last, 1, "\(loss)")
            XCTAssertEqual(history.epochLosses.count, 40)
            XCTAssertEqual(history.iterations, 40 * 6)
            XCTAssertLessThan(history.epochLosses.last ?? 9, history.epochLosses.first ?? 0, "\(loss): loss falls")
        }
    }

    func testZeroModelHasTheKnownLoss() throws {
        let data = try separableToySet()
        let (pipeline, matrix) = try InputPipeline.fitted(on: data, features: .pixels, preprocessing: .meanImage)
        let prepared = try PreparedData(pipeline: pipeline, features: matrix, labels: data.labels, classNames: data.classNames)
        for (loss, expected) in [(ClassificationLoss.hinge, 2.0), (.softmax, log(3.0))] {
            let model = try LinearClassifier(loss: loss, pipeline: pipeline, weights: Tensor(zeros: [3, 2]), bias: [0, 0, 0],
                                             classNames: data.classNames)
            assertClose(try model.loss(on: prepared), expected, rtol: 1e-9)
        }
    }

    /// The whole model's minibatch gradient (data loss through the affine map, plus L2) against
    /// numeric gradients of its own loss.
    func testModelGradientMatchesNumericGradient() throws {
        let (n, d, c) = (6, 5, 3)
        let x = randomTensor(rows: n, columns: d, seed: 21), labels: [Int32] = [0, 1, 2, 2, 1, 0]
        let w = randomTensor(rows: c, columns: d, seed: 22).scalars, b = randomTensor(rows: 1, columns: c, seed: 23).scalars
        for loss in ClassificationLoss.allCases {
            func lossAndGradients(_ w: [Float], _ b: [Float]) -> (Double, [[Float]]) {
                var gradients: [[Float]] = [[Float](repeating: 0, count: c * d), [Float](repeating: 0, count: c)]
                let value = x.scalars.withUnsafeBufferPointer {
                    LinearClassifier.lossAndGradients(batch: .features($0.baseAddress!), rows: n, d: d, c: c, labels: labels[...], weights: w,
                                                      bias: b, loss: loss, regularization: 0.1, gradients: &gradients)
                }
                return (value, gradients)
            }
            let analytic = lossAndGradients(w, b).1
            // Scores go through Float BLAS: steps of 1e-2 keep rounding well under the 1e-3 tolerance
            // (and cross no hinge kink for these seeded values); gradients below 1e-4 count as absolute.
            assertGradientsMatch(analytic[0], numericGradient(w, step: 1e-2) { lossAndGradients($0, b).0 }, tolerance: 1e-3,
                                 floor: 1e-4, "\(loss) dW")
            assertGradientsMatch(analytic[1], numericGradient(b, step: 1e-2) { lossAndGradients(w, $0).0 }, tolerance: 1e-3,
                                 floor: 1e-4, "\(loss) db")
        }
    }

    func testSameSeedGivesTheSameModelAndAnotherSeedDoesNot() throws {
        let data = try separableToySet()
        var first = LinearClassifier(loss: .softmax, options: toyOptions()), second = first
        try first.fit(data)
        try second.fit(data)
        XCTAssertEqual(first.weights, second.weights)
        var other = LinearClassifier(loss: .softmax, options: toyOptions())
        other.options.seed = 4
        try other.fit(data)
        XCTAssertNotEqual(first.weights, other.weights)
    }

    func testDivergenceStopsTrainingAndNamesTheLearningRate() throws {
        let data = try separableToySet()
        var model = LinearClassifier(loss: .softmax, options: toyOptions(1e30))
        XCTAssertThrowsError(try model.fit(data)) { error in
            let error = error as? PerceptError
            XCTAssertEqual(error?.kind, .invalidArgument)
            XCTAssertTrue(error?.reason.contains("learning rate 1e+30") ?? false, "\(String(describing: error))")
        }
        XCTAssertTrue(model.classNames.isEmpty, "a diverged fit leaves no half-trained model")
        XCTAssertThrowsError(try model.scores(for: data))
    }

    func testBadInputGivesClearErrors() throws {
        let data = try separableToySet()
        var model = LinearClassifier(options: toyOptions())
        XCTAssertThrowsError(try model.fit(data.subset([]))) { XCTAssertEqual(($0 as? PerceptError)?.kind, .invalidData) }
        var bad = model
        bad.options.learningRate = -1
        XCTAssertThrowsError(try bad.fit(data)) { XCTAssertTrue("\($0)".contains("learning rate")) }
        try model.fit(data)
        let wider = try tinyDataset([[1, 2, 3]], labels: [0], classNames: data.classNames)
        XCTAssertThrowsError(try model.scores(for: wider)) { error in
            XCTAssertEqual((error as? PerceptError)?.kind, .invalidData)
            XCTAssertTrue("\(error)".contains("3x1x1"), "\(error)")
        }
        XCTAssertThrowsError(try LinearClassifier(loss: .hinge, pipeline: model.pipeline!, weights: Tensor(zeros: [2, 2]),
                                                  bias: [0, 0, 0], classNames: data.classNames))
        XCTAssertThrowsError(try model.template(of: 7))
    }

    func testArchiveRoundTripGivesIdenticalScores() throws {
        let data = try separableToySet()
        for preprocessing in [Preprocessing.meanImage, .channelStandardization] {
            var model = LinearClassifier(loss: .hinge, preprocessing: preprocessing, options: toyOptions())
            try model.fit(data)
            let archive = try model.archive()
            XCTAssertEqual(archive.kind, "linear")
            let loaded = try LinearClassifier(archive: archive)
            XCTAssertEqual(try loaded.scores(for: data), try model.scores(for: data))
            XCTAssertEqual(loaded.pipeline, model.pipeline)
            XCTAssertEqual(loaded.loss, .hinge)
            XCTAssertThrowsError(try TwoLayerNet(archive: archive), "a linear archive is not a two-layer net")
            var broken = archive
            broken.tensors["weights"] = Tensor(zeros: [3, 5])
            XCTAssertThrowsError(try LinearClassifier(archive: broken))
        }
    }

    func testTemplatesAreRowsOfW() throws {
        let data = try separableToySet()
        var model = LinearClassifier(options: toyOptions())
        try model.fit(data)
        let template = try model.template(of: 1)
        XCTAssertEqual(template.shape, [1, 2, 1])
        XCTAssertEqual(template.scalars, Array(model.weights.scalars[2..<4]))
    }

    func testChannelStandardizationGivesZeroMeanUnitVariancePerChannel() throws {
        let data = try separableToySet()
        let (_, matrix) = try InputPipeline.fitted(on: data, features: .pixels, preprocessing: .channelStandardization)
        let mean = matrix.scalars.reduce(0, +) / Float(matrix.count)
        let variance = matrix.scalars.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(matrix.count)
        XCTAssertEqual(mean, 0, accuracy: 1e-5)
        XCTAssertEqual(variance, 1, accuracy: 1e-4)
        XCTAssertThrowsError(try InputPipeline.fitted(on: data, features: .standardHOGColor, preprocessing: .channelStandardization))
    }

    func testHOGColorModelStoresItsFeaturesAndExtractsTheSameAtPrediction() throws {
        // Six 24×24 images of seeded noise, alternating labels: enough cells for 2×2 HOG blocks.
        let noise = randomTensor(rows: 6, columns: 24 * 24 * 3, seed: 9, integers: true)
        let dataset = try Dataset(height: 24, width: 24, channels: 3,
                                  pixels: PixelStorage(copying: noise.scalars.map { UInt8($0) }),
                                  labels: (0..<6).map { Int32($0 % 2) }, classNames: ["a", "b"])
        let features = ImageFeatures.standardHOGColor
        var model = LinearClassifier(loss: .softmax, features: features, preprocessing: .featureStandardization,
                                     options: SGDOptions(batchSize: 3, epochs: 2, threads: 1))
        try model.fit(dataset)
        let loaded = try LinearClassifier(archive: model.archive())
        XCTAssertEqual(loaded.features, features)
        XCTAssertEqual(try loaded.scores(for: dataset), try model.scores(for: dataset))
    }
}
