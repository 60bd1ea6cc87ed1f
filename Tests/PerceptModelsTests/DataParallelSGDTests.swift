import Foundation
import PerceptCore
import PerceptData
import PerceptDistributed
@testable import PerceptModels
import PerceptPreprocessing
import TestSupport
import XCTest

/// The minibatch SGD families trained with each batch split across ranks (threads of a
/// `ThreadGroup`) end with the single-process weights and history for the same batch and seed.
final class DataParallelSGDTests: XCTestCase {
    private func options(batchSize: Int) -> SGDOptions {
        SGDOptions(learningRate: 0.05, regularization: 1e-3, momentum: 0.9, learningRateDecay: 0.95,
                   batchSize: batchSize, epochs: 6, seed: 5, threads: 1)
    }

    private func prepared(_ options: SGDOptions) throws -> (train: PreparedData, validation: PreparedData?) {
        let data = try separableToySet(perClass: 20, seed: 4)
        return try PreparedData.trainingAndValidation(data, validation: data, features: .pixels,
                                                      preprocessing: .channelStandardization, options: options)
    }

    func testLinearClassifiersOnTwoThreeAndFiveRanksMatchOneProcess() throws {
        // 60 rows in batches of 16 (the last 12): 3 ranks take 6/5/5 and 4/4/4; 5 ranks leave none empty but
        // batches of 16 split 4/3/3/3/3. Batches of 4 on 5 ranks give one rank nothing every step.
        for loss in ClassificationLoss.allCases {
            for (ranks, batchSize) in [(2, 16), (3, 16), (5, 16), (5, 4)] {
                let options = options(batchSize: batchSize)
                let data = try prepared(options)
                var single = LinearClassifier(loss: loss, preprocessing: .channelStandardization, options: options)
                let expected = try single.fit(data.train, validation: data.validation)
                let models = try ThreadGroup.run(size: ranks) { communicator -> LinearClassifier in
                    var model = LinearClassifier(loss: loss, preprocessing: .channelStandardization, options: options)
                    _ = try model.fit(data.train, validation: data.validation, communicator: communicator)
                    return model
                }
                for (rank, model) in models.enumerated() {
                    let what = "\(loss), \(ranks) ranks, batch \(batchSize), rank \(rank)"
                    assertClose(model.weights.scalars, single.weights.scalars, rtol: 1e-4, atol: 1e-6, what)
                    assertClose(model.bias, single.bias, rtol: 1e-4, atol: 1e-6, what)
                    let history = try XCTUnwrap(model.history)
                    XCTAssertEqual(history.iterations, expected.iterations, what)
                    assertClose(history.iterationLosses.map(Float.init), expected.iterationLosses.map(Float.init),
                                rtol: 1e-4, atol: 1e-6, what)
                    XCTAssertEqual(history.validationAccuracies, expected.validationAccuracies, what)
                }
                // Every rank applied the same updates: identical, not merely close.
                XCTAssertEqual(Set(models.map(\.weights.scalars)).count, 1)
            }
        }
    }

    func testTwoLayerNetOnThreeRanksMatchesOneProcess() throws {
        let options = options(batchSize: 7)   // the last batch of 60 rows has 4: shares 2/1/1
        let data = try prepared(options)
        var single = TwoLayerNet(hiddenSize: 6, preprocessing: .channelStandardization, options: options)
        _ = try single.fit(data.train, validation: data.validation)
        let nets = try ThreadGroup.run(size: 3) { communicator -> TwoLayerNet in
            var net = TwoLayerNet(hiddenSize: 6, preprocessing: .channelStandardization, options: options)
            _ = try net.fit(data.train, validation: data.validation, communicator: communicator)
            return net
        }
        for net in nets {
            assertClose(net.weights1.scalars, single.weights1.scalars, rtol: 1e-4, atol: 1e-6, "W1")
            assertClose(net.weights2.scalars, single.weights2.scalars, rtol: 1e-4, atol: 1e-6, "W2")
            assertClose(net.bias1 + net.bias2, single.bias1 + single.bias2, rtol: 1e-4, atol: 1e-6, "biases")
        }
        // The comparison can fail: another seed gives other weights.
        var other = options
        other.seed = 6
        var elsewhere = TwoLayerNet(hiddenSize: 6, preprocessing: .channelStandardization, options: other)
        _ = try elsewhere.fit(try prepared(other).train)
        XCTAssertNotEqual(elsewhere.weights1.scalars, single.weights1.scalars)
    }

    func testATimeLimitStopsAfterTheEpochThatPassesItOnEveryRank() throws {
        var options = options(batchSize: 16)
        let data = try prepared(options)
        var unlimited = LinearClassifier(loss: .softmax, preprocessing: .channelStandardization, options: options)
        XCTAssertEqual(try unlimited.fit(data.train, validation: data.validation).epochs.count, 6)
        options.timeLimit = 1e-9   // every epoch ends past it: the first is kept, and training stops
        var limited = LinearClassifier(loss: .softmax, preprocessing: .channelStandardization, options: options)
        XCTAssertEqual(try limited.fit(data.train, validation: data.validation).epochs.count, 1)
        let limitedOptions = options
        let histories = try ThreadGroup.run(size: 2) { communicator -> Int in
            var model = LinearClassifier(loss: .softmax, preprocessing: .channelStandardization, options: limitedOptions)
            return try model.fit(data.train, validation: data.validation, communicator: communicator).epochs.count
        }
        XCTAssertEqual(histories, [1, 1])
        options.timeLimit = -1
        XCTAssertThrowsError(try options.validate()) { XCTAssertTrue("\($0)".contains("time limit"), "\($0)") }
    }
}
