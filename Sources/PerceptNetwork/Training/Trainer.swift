import Foundation
import PerceptCore
import PerceptData
import PerceptDistributed
import PerceptModelKit
import PerceptPreprocessing

/// What `Trainer.fit` returns: the model (best or last weights) and the run's history.
public struct TrainingResult: Sendable {
    public var model: ConvNetClassifier
    public var history: TrainingHistory
}

/// Trains a network: minibatch SGD/Adam on a softmax cross-entropy loss, a learning-rate schedule,
/// augmented batches prepared in the background, validation after every epoch, best-model
/// keeping, early stopping, and atomic checkpoints that `fit(resume: true)` continues from.
///
/// Data-parallel: given a `communicator` of several ranks (processes under `mpirun`, or a
/// `ThreadGroup`), every rank calls `fit` with the same data and options; each trains on its
/// contiguous share of every global batch of `options.batchSize` and the gradients are summed
/// before each step (`GradientExchange`), so one seed gives the single-process model within float
/// rounding (BatchNorm aside: its batch statistics are per rank). Rank 0 alone writes checkpoints,
/// which hold only global state, so a run may resume with another number of ranks.
public final class Trainer {
    public let architecture: Architecture
    public var options: TrainingOptions
    /// The ranks training together; one process by default.
    public let communicator: Communicator

    public init(architecture: Architecture, options: TrainingOptions, communicator: Communicator = SingleProcess()) {
        self.architecture = architecture
        self.options = options
        self.communicator = communicator
    }

    /// Trains on `train`, validating on `validation` (when given and non-empty) after each epoch.
    /// With `resume`, continues from `options.checkpointPath` if that file exists. An error thrown
    /// by `progress` stops training (the last checkpoint stays) and is rethrown.
    public func fit(train: Dataset, validation: Dataset? = nil, resume: Bool = false,
                    progress: ((TrainingProgress) throws -> Void)? = nil) throws -> TrainingResult {
        try options.validate()
        let validation = try Trainer.usableValidation(validation, for: train)
        try checkShards(train: train)
        let run = try TrainingRun(architecture: architecture, options: options, train: train, communicator: communicator)
        if resume, let path = options.checkpointPath, try resumes(from: path) {
            try run.resume(from: path)
        }
        run.start()
        try BLAS.withThreadCount(options.threads) {
            while run.epoch < options.epochs && !run.history.stoppedEarly {
                let trained = try run.trainEpoch(progress: progress)
                var record = trained.record
                let last = run.epoch + 1 == options.epochs || trained.outOfTime
                // The run ends on the lookahead average: validate that, as the model will be.
                if last { run.finishLookahead() }
                if let validation { try run.validate(on: validation, record: &record, last: last, progress: progress) }
                try run.endEpoch(record, outOfTime: trained.outOfTime)
            }
        }
        return try run.result()
    }

    /// Whether to resume from the checkpoint at `path`: rank 0 decides (it wrote the file) and tells
    /// the others, so the ranks never disagree about where training starts; each then reads it.
    private func resumes(from path: String) throws -> Bool {
        let exists = FileManager.default.fileExists(atPath: path)
        guard communicator.size > 1 else { return exists }
        let verdict = try communicator.broadcast([exists ? 1 : 0], from: 0)
        return verdict.first == 1
    }

    /// Refuses a job whose ranks would get an empty share of a batch.
    private func checkShards(train: Dataset) throws {
        let smallestBatch = options.batchSize <= train.count ? options.batchSize : train.count
        guard smallestBatch >= communicator.size else {
            throw PerceptError.invalidArgument(
                "a batch of \(smallestBatch) images cannot be split across \(communicator.size) ranks; use a batch of at least \(communicator.size) or fewer ranks")
        }
    }

    /// The validation set when it has images, after checking it matches the training set.
    static func usableValidation(_ validation: Dataset?, for train: Dataset) throws -> Dataset? {
        guard train.count >= 1 else { throw PerceptError.invalidData("the training set is empty") }
        guard let validation, !validation.isEmpty else { return nil }
        guard validation.height == train.height, validation.width == train.width, validation.channels == train.channels,
              validation.classNames == train.classNames else {
            throw PerceptError.invalidData("the validation images or classes differ from the training set's")
        }
        return validation
    }

    static func allLayers(_ layers: [any Layer]) -> [any Layer] {
        layers.flatMap { layer -> [any Layer] in
            if let residual = layer as? Residual { return [layer] + allLayers(residual.layers) }
            return [layer]
        }
    }

    /// Mean cross-entropy and accuracy of the network (inference mode) on a dataset.
    static func evaluate(_ network: Network, on dataset: Dataset, normalization: Normalization, batchSize: Int,
                         views: TestTimeAugmentation, threads: Int) -> (loss: Double, accuracy: Double) {
        let p = Inference.probabilities(network, dataset: dataset, normalization: normalization, batchSize: batchSize,
                                        views: views, threads: threads)
        let c = network.classCount
        var loss = 0.0, correct = 0
        for i in 0..<dataset.count {
            let row = p.scalars[(i * c)..<((i + 1) * c)]
            let label = Int(dataset.labels[i])
            loss -= log(max(Double(row[row.startIndex + label]), 1e-30))
            if let top = row.indices.max(by: { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }),
               top - row.startIndex == label { correct += 1 }
        }
        return (loss / Double(dataset.count), Double(correct) / Double(dataset.count))
    }

    /// Per-channel mean and standard deviation of a dataset's pixels (0…1 scale), in Double.
    public static func channelStatistics(_ dataset: Dataset) -> Normalization {
        let c = dataset.channels
        var sum = [Double](repeating: 0, count: c), squares = [Double](repeating: 0, count: c)
        dataset.withPixelBytes { bytes in
            var index = 0
            for byte in bytes {
                let v = Double(byte) / 255
                sum[index] += v
                squares[index] += v * v
                index = index + 1 == c ? 0 : index + 1
            }
        }
        let n = Double(max(1, dataset.count * dataset.height * dataset.width))
        let mean = sum.map { $0 / n }
        let std = zip(squares, mean).map { max(($0 / n - $1 * $1), 1e-12).squareRoot() }
        return Normalization(mean: mean.map(Float.init), std: std.map { Float(max($0, 1e-3)) })
    }
}
