import Foundation
import XCTest
import PerceptCore
import PerceptData
@testable import PerceptModels
import PerceptPreprocessing
import TestSupport
import PerceptModelKit

final class TwoLayerNetTests: XCTestCase {
    private func options() -> SGDOptions {
        SGDOptions(learningRate: 0.05, regularization: 1e-4, momentum: 0.9, learningRateDecay: 0.98, batchSize: 10,
                   epochs: 40, seed: 5, threads: 1)
    }

    /// Every parameter's gradient (W₁, b₁, W₂, b₂) from the minibatch step against numeric
    /// gradients of the same loss, through affine – ReLU – affine – softmax and L2.
    func testNetGradientMatchesNumericGradient() throws {
        let (n, d, h, c) = (6, 5, 4, 3)
        let x = randomTensor(rows: n, columns: d, seed: 31), labels: [Int32] = [0, 1, 2, 2, 1, 0]
        let parameters = [randomTensor(rows: h, columns: d, seed: 32).scalars, randomTensor(rows: 1, columns: h, seed: 33).scalars,
                          randomTensor(rows: c, columns: h, seed: 34).scalars, randomTensor(rows: 1, columns: c, seed: 35).scalars]
        func lossAndGradients(_ parameters: [[Float]]) -> (Double, [[Float]]) {
            var gradients = parameters.map { [Float](repeating: 0, count: $0.count) }
            let value = x.scalars.withUnsafeBufferPointer {
                TwoLayerNet.lossAndGradients(batch: $0.baseAddress!, rows: n, d: d, labels: labels[...], parameters: parameters,
                                             hidden: h, classes: c, regularization: 0.05, gradients: &gradients)
            }
            return (value, gradients)
        }
        let analytic = lossAndGradients(parameters).1
        for (index, name) in ["W1", "b1", "W2", "b2"].enumerated() {
            let numeric = numericGradient(parameters[index], step: 1e-2) { values in
                var changed = parameters
                changed[index] = values
                return lossAndGradients(changed).0
            }
            assertGradientsMatch(analytic[index], numeric, tolerance: 1e-3, name)
        }
    }

    func testSeparableToySetReaches100Percent() throws {
        let data = try separableToySet()
        var net = TwoLayerNet(hiddenSize: 16, preprocessing: .channelStandardization, options: options())
        let history = try net.fit(data, validation: data)
        XCTAssertEqual(try net.predict(data), data.labels)
        XCTAssertEqual(history.validationAccuracies.last, 1)
    }

    func testZeroOutputLayerGivesLnC() throws {
        let data = try separableToySet()
        let (pipeline, matrix) = try InputPipeline.fitted(on: data, features: .pixels, preprocessing: .meanImage)
        let prepared = try PreparedData(pipeline: pipeline, features: matrix, labels: data.labels, classNames: data.classNames)
        let net = try TwoLayerNet(pipeline: pipeline, weights1: Tensor(zeros: [4, 2]), bias1: [0, 0, 0, 0],
                                  weights2: Tensor(zeros: [3, 4]), bias2: [0, 0, 0], classNames: data.classNames)
        assertClose(try net.loss(on: prepared), log(3.0), rtol: 1e-9)
    }

    func testArchiveRoundTripGivesIdenticalScores() throws {
        let data = try separableToySet()
        var net = TwoLayerNet(hiddenSize: 8, options: options())
        try net.fit(data)
        let archive = try net.archive()
        XCTAssertEqual(archive.kind, "two-layer-net")
        let loaded = try TwoLayerNet(archive: archive)
        XCTAssertEqual(loaded.hiddenSize, 8)
        XCTAssertEqual(try loaded.scores(for: data), try net.scores(for: data))
        XCTAssertThrowsError(try LinearClassifier(archive: archive))
        var broken = archive
        broken.tensors["weights2"] = Tensor(zeros: [3, 7])
        XCTAssertThrowsError(try TwoLayerNet(archive: broken))
    }

    func testDeterministicAndDivergenceNamesTheLearningRate() throws {
        let data = try separableToySet()
        var first = TwoLayerNet(hiddenSize: 8, options: options()), second = first
        try first.fit(data)
        try second.fit(data)
        XCTAssertEqual(first.weights1, second.weights1)
        XCTAssertEqual(first.weights2, second.weights2)
        var wild = TwoLayerNet(hiddenSize: 8, options: options())
        wild.options.learningRate = 1e20
        XCTAssertThrowsError(try wild.fit(data)) { XCTAssertTrue("\($0)".contains("learning rate 1e+20"), "\($0)") }
        var empty = TwoLayerNet(hiddenSize: 0, options: options())
        XCTAssertThrowsError(try empty.fit(data)) { XCTAssertTrue("\($0)".contains("hidden")) }
    }
}
