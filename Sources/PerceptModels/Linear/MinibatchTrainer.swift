import Foundation
import PerceptCore
import PerceptDistributed
import PerceptModelKit
import PerceptPreprocessing

/// The training loop shared by `LinearClassifier` and `TwoLayerNet`: minibatches, momentum
/// updates, learning-rate decay, divergence checks and the history.
///
/// A model hands over its parameters as flat Float arrays, a `step` that returns the loss of the
/// batch of `rows` training rows from `start` and writes the gradient of every parameter, and a
/// `predict` for accuracies.
///
/// Data-parallel (a `communicator` of several ranks, each holding the same prepared rows): every
/// rank runs `step` on its contiguous share of each batch (`Communicator.shard`), weights its
/// gradients and loss by its share of the rows, and one allreduce (in Double, one buffer for every
/// parameter and the loss) sums them into the single-process mean over the batch — the
/// regularisation term, the same on every rank, comes out once because the weights sum to 1. Every
/// rank then takes the same momentum step, so the ranks' parameters stay identical; the epoch
/// accuracies are measured by every rank alike.
struct MinibatchTrainer {
    typealias Step = (_ start: Int, _ rows: Int, _ labels: ArraySlice<Int32>,
                      _ parameters: [[Float]], _ gradients: inout [[Float]]) -> Double
    /// The rows whose accuracy is measured after each epoch.
    enum AccuracySet {
        /// The first `rows` training rows (a random sample: training rows are shuffled).
        case trainingSample(rows: Int)
        case validation
    }
    typealias Predict = (_ set: AccuracySet, _ parameters: [[Float]]) -> [Int32]

    let options: SGDOptions
    var communicator: Communicator = SingleProcess()

    func train(parameters: inout [[Float]], data: PreparedData, validation: PreparedData?,
               step: Step, predict: Predict) throws -> TrainingHistory {
        try options.validate()
        guard data.count > 0 else { throw PerceptError.invalidData("cannot train on an empty dataset") }
        if let validation, validation.features.columns != data.features.columns {
            throw PerceptError.invalidData("validation features have \(validation.features.columns) columns, training \(data.features.columns)")
        }
        let n = data.count, batch = min(options.batchSize, n)
        let batchCount = (n + batch - 1) / batch
        var history = TrainingHistory()
        var velocity = parameters.map { [Float](repeating: 0, count: $0.count) }
        var gradients = velocity
        var learningRate = options.learningRate
        let sampleRows = min(n, max(1, options.trainAccuracySample))
        let sampleLabels = Array(data.labels.prefix(sampleRows))
        let lastStep = options.iterations ?? Int.max
        let started = Date()

        try BLAS.withThreadCount(options.threads ?? Parallel.defaultThreadCount) {
                for epoch in 0..<options.epochs where history.iterations < lastStep {
                    var random = SeededRandom.stream(seed: options.seed, index: epoch)
                    let order = Array(0..<batchCount).shuffled(using: &random)
                    var epochLoss = 0.0, steps = 0
                    for batchIndex in order where history.iterations < lastStep {
                        let start = batchIndex * batch, rows = min(batch, n - start)
                        let loss = try stepOnShard(start: start, rows: rows, labels: data.labels, parameters: parameters,
                                                   gradients: &gradients, step: step)
                        guard loss.isFinite else {
                            throw Self.divergence(loss: loss, learningRate: options.learningRate, epoch: epoch,
                                                  iteration: history.iterations + 1)
                        }
                        for p in parameters.indices {
                            Dense.momentumUpdate(&parameters[p], velocity: &velocity[p], gradient: gradients[p],
                                                 learningRate: learningRate, momentum: options.momentum)
                        }
                        history.iterationLosses.append(loss)
                        epochLoss += loss
                        steps += 1
                    }
                    guard parameters.allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
                        throw Self.divergence(loss: .infinity, learningRate: options.learningRate, epoch: epoch,
                                              iteration: history.iterations)
                    }
                    var record = EpochRecord(
                        epoch: epoch + 1, trainLoss: epochLoss / Double(max(1, steps)),
                        trainAccuracy: Self.accuracy(predict(.trainingSample(rows: sampleRows), parameters), sampleLabels),
                        learningRate: Double(learningRate))
                    if let validation {
                        record.validationAccuracy = Self.accuracy(predict(.validation, parameters), validation.labels)
                    }
                    history.epochs.append(record)
                    if let target = options.targetValidationAccuracy, let accuracy = record.validationAccuracy,
                       accuracy >= target { break }
                    if let limit = options.timeLimit {
                        var late = Date().timeIntervalSince(started) >= limit ? 1.0 : 0
                        // Ranks stop together: one rank past the limit stops them all.
                        if communicator.size > 1 { late = try communicator.allreduceSum(late) }
                        if late > 0 { break }
                    }
                    learningRate *= options.learningRateDecay
                }
        }
        return history
    }

    /// One batch's loss and mean gradients: `step` itself for one process; with several ranks, the
    /// sum over ranks of each one's share, weighted by its rows (a rank with no rows adds nothing).
    private func stepOnShard(start: Int, rows: Int, labels: [Int32], parameters: [[Float]], gradients: inout [[Float]],
                             step: Step) throws -> Double {
        guard communicator.size > 1 else { return step(start, rows, labels[start..<(start + rows)], parameters, &gradients) }
        let share = communicator.shard(of: rows)
        var loss = 0.0
        if share.isEmpty {
            for p in gradients.indices { gradients[p] = [Float](repeating: 0, count: gradients[p].count) }
        } else {
            let first = start + share.lowerBound
            loss = step(first, share.count, labels[first..<(first + share.count)], parameters, &gradients)
        }
        let weight = Double(share.count) / Double(rows)
        var buffer = [Double]()
        buffer.reserveCapacity(gradients.reduce(1) { $0 + $1.count })
        for gradient in gradients { for g in gradient { buffer.append(Double(g) * weight) } }
        buffer.append(loss * weight)
        try communicator.allreduceSum(&buffer)
        var index = 0
        for p in gradients.indices {
            for k in gradients[p].indices { gradients[p][k] = Float(buffer[index + k]) }
            index += gradients[p].count
        }
        return buffer[index]
    }

    static func accuracy(_ predicted: [Int32], _ truth: [Int32]) -> Double {
        guard !truth.isEmpty else { return 0 }
        return Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(truth.count)
    }

    static func divergence(loss: Double, learningRate: Float, epoch: Int, iteration: Int) -> PerceptError {
        PerceptError.invalidArgument(
            "training diverged (loss \(loss) at step \(iteration), epoch \(epoch + 1)) with learning rate \(learningRate): "
            + "try a smaller learning rate, e.g. \(learningRate / 10)")
    }
}

/// The best class of each row of an N×C score matrix (ties to the lower class).
func argmaxRows(_ scores: Tensor) -> [Int32] {
    let c = scores.columns
    return (0..<scores.rows).map { row in
        var best = 0
        for j in 1..<max(1, c) where scores.scalars[row * c + j] > scores.scalars[row * c + best] { best = j }
        return Int32(best)
    }
}
