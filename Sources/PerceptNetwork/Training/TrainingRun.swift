import Dispatch
import Foundation
import PerceptCore
import PerceptModelKit
import PerceptData
import PerceptDistributed

/// One call of `Trainer.fit`: the network being trained and everything that moves with it
/// (optimiser, weight averages, history, step count), in the order a run goes — build, resume
/// from a checkpoint, train an epoch, validate it, checkpoint it, and at the end the model.
///
/// With several ranks (`communicator`), each trains on its share of every global batch and
/// `GradientExchange` sums the gradients before the identical optimiser step on every rank;
/// validation is split the same way; rank 0 alone writes checkpoints.
final class TrainingRun {
    let architecture: Architecture
    let options: TrainingOptions
    let communicator: Communicator
    /// The gradient exchange of a job of several ranks; nil for one process.
    let exchange: GradientExchange?
    /// This rank's share of the validation images (all of them for one process).
    private var validationShard: Dataset?
    let train: Dataset
    let inputShape: FeatureShape
    let network: Network
    let optimizer: any Optimizer
    /// airbench's fixed whitening stem, when the network starts with one.
    let whitening: Conv2D?
    /// What the optimiser updates (fixed at the start; a frozen array stays listed, its flag says so).
    let trainable: [Parameter]
    var normalization: Normalization
    var lookahead: Lookahead?
    var average: WeightAverage?
    var history = TrainingHistory()
    /// The weights of the best validated epoch so far (`keepBest`).
    var best: [String: Tensor]?
    /// The next epoch to train (0-based) and the optimiser steps taken so far.
    var epoch = 0, globalStep = 0

    /// Made by `start()`, after a resume may have replaced the normalisation.
    private var pipeline: BatchPipeline?
    private var dLogits = FloatBuffer()
    private var clock: UInt64 = 0, elapsedBefore = 0.0, validationSeconds = 0.0

    /// Builds and initialises the network (whitening from the training images, BatchNorm shift
    /// scaling) and the optimiser and averages for a fresh run; several ranks start from rank 0's.
    init(architecture: Architecture, options: TrainingOptions, train: Dataset,
         communicator: Communicator = SingleProcess()) throws {
        self.architecture = architecture
        self.options = options
        self.communicator = communicator
        exchange = communicator.size > 1 ? GradientExchange(communicator: communicator) : nil
        self.train = train
        inputShape = FeatureShape(height: train.height, width: train.width, channels: train.channels)
        network = try Network(architecture: architecture, inputShape: inputShape, classCount: train.classCount,
                              seed: options.seed)
        network.setThreads(options.threads)
        optimizer = switch options.optimizer {
        case .sgd: SGD(momentum: options.momentum, nesterov: options.nesterov, weightDecay: options.weightDecay,
                       decoupledWeightDecay: options.decoupledWeightDecay)
        case .adam: Adam(weightDecay: options.weightDecay, decoupledWeightDecay: options.decoupledWeightDecay)
        }
        normalization = options.normalization ?? Trainer.channelStatistics(train)
        whitening = (network.layers.first as? Conv2D).flatMap { $0.isWhitening ? $0 : nil }
        if let whitening {
            try Whitening.initialize(whitening, from: train, normalization: normalization, threads: options.threads)
        }
        if let scaler = options.biasScaler {
            for case let norm as BatchNorm in Trainer.allLayers(network.layers) {
                norm.shift.learningRateScale = scaler
                norm.shift.weightDecayScale = 1 / scaler
                norm.shift.decays = true
            }
        }
        trainable = network.parameters.filter(\.trainable)
        try adoptRootWeights()
        lookahead = options.lookahead ? Lookahead(network.parameters + network.state) : nil
        average = WeightAverage(decay: options.emaDecay, parameters: trainable)
    }

    /// Everything the network's averages and statistics are kept in (lookahead moves all of it).
    private var allArrays: [Parameter] { network.parameters + network.state }

    // MARK: Resume

    /// Continues from the checkpoint at `path`: weights, optimiser state, averages, best weights,
    /// normalisation, history and position. Refuses one made for another architecture or data.
    func resume(from path: String) throws {
        let checkpoint = try Checkpoint.read(path)
        let header = checkpoint.header
        guard header.architecture == architecture else {
            throw PerceptError.invalidData(
                "this checkpoint was made for architecture '\(header.architecture.name)' (\(header.architecture.layers.count) layers), not '\(architecture.name)' as now; use the same --arch or start afresh",
                path: path)
        }
        guard header.classNames == train.classNames, header.inputShape == inputShape else {
            throw PerceptError.invalidData("this checkpoint was trained on other classes or image sizes", path: path)
        }
        try network.load(checkpoint.arrays(prefixed: "network/"))
        optimizer.state = checkpoint.arrays(prefixed: "optimizer/").mapValues(\.scalars)
        optimizer.stepCount = header.optimizerSteps
        if lookahead != nil {
            lookahead?.values = try savedValues(checkpoint.arrays(prefixed: "lookahead/"), for: allArrays.map(\.name),
                                                what: "lookahead average", path: path)
        }
        if average != nil {
            average?.values = try savedValues(checkpoint.arrays(prefixed: "ema/"), for: trainable.map(\.name),
                                              what: "weight average", path: path)
        }
        let bestArrays = checkpoint.arrays(prefixed: "best/")
        best = bestArrays.isEmpty ? nil : bestArrays
        normalization = header.normalization
        history = header.history
        epoch = header.completedEpochs
        globalStep = header.globalStep
    }

    private func savedValues(_ saved: [String: Tensor], for names: [String], what: String, path: String) throws -> [[Float]] {
        try names.map { name in
            guard let values = saved[name]?.scalars else {
                throw PerceptError.invalidData("the checkpoint has no \(what) for '\(name)'", path: path)
            }
            return values
        }
    }

    /// Gives every rank rank 0's weights and statistics, as DDP does at the start: the ranks build
    /// them from the same seed and images, but a whitening stem computed with other thread counts
    /// could differ in the last bits, and the ranks must never drift apart. (Root sends its values,
    /// the others zeros: the sum is root's values exactly.)
    func adoptRootWeights() throws {
        guard communicator.size > 1 else { return }
        let arrays = allArrays
        var values = [Float]()
        values.reserveCapacity(arrays.reduce(0) { $0 + $1.count })
        for p in arrays { values += communicator.isRoot ? p.value : [Float](repeating: 0, count: p.count) }
        try communicator.allreduceSum(&values)
        var index = 0
        for p in arrays {
            p.value = Array(values[index..<(index + p.count)])
            index += p.count
        }
    }

    // MARK: One epoch

    private var batches: BatchPipeline {
        guard let pipeline else { preconditionFailure("TrainingRun: start() before training") }
        return pipeline
    }
    private var stepsPerEpoch: Int { batches.batchesPerEpoch }
    private var totalSteps: Int { options.epochs * stepsPerEpoch }

    private func elapsed() -> Double { elapsedBefore + Double(DispatchTime.now().uptimeNanoseconds - clock) / 1e9 }

    /// Sets up the batches and the clock; the step count decides dropout's masks from here on.
    func start() {
        for case let dropout as Dropout in Trainer.allLayers(network.layers) { dropout.step = globalStep }
        let pipeline = BatchPipeline(dataset: train, batchSize: options.batchSize, augmentation: options.augmentation,
                                     normalization: normalization, seed: options.seed)
        (pipeline.rank, pipeline.ranks) = (communicator.rank, communicator.size)
        self.pipeline = pipeline
        dLogits = FloatBuffer(capacity: options.batchSize * train.classCount)
        clock = DispatchTime.now().uptimeNanoseconds
        elapsedBefore = history.epochs.last?.elapsedSeconds ?? 0
    }

    /// Trains one pass over the shuffled, augmented training images, reporting after every step;
    /// stops early at the time limit. Returns the epoch's record (not yet validated).
    func trainEpoch(progress: ((TrainingProgress) throws -> Void)?) throws -> (record: EpochRecord, outOfTime: Bool) {
        let batches = batches
        batches.start(epoch: epoch)
        if let whitening, let epochs = options.whiteningBiasEpochs { whitening.bias?.trainable = epoch < epochs }
        var lossSum = 0.0, correct = 0, seen = 0, step = 0
        let epochStart = elapsed() - validationSeconds
        var learningRate = 0.0
        var outOfTime = false
        while let batch = batches.next() {
            let n = batch.count
            let logits = network.forward(batch.images, batch: n, mode: .training)
            let result = CrossEntropy.softmaxCrossEntropy(logits: logits, labels: batch.labels, classes: train.classCount,
                                                          smoothing: options.labelSmoothing, dLogits: dLogits)
            learningRate = options.schedule.learningRate(step: globalStep, totalSteps: totalSteps)
            guard result.loss.isFinite else {
                throw PerceptError.invalidData(
                    "training diverged at step \(globalStep + 1) (epoch \(epoch + 1)) with learning rate \(String(format: "%.4g", learningRate)): the loss is \(result.loss); lower the learning rate or add warm-up")
            }
            network.backward(dLogits, batch: n)
            var batchLoss = result.loss * Double(n), batchCorrect = result.correct, batchImages = n
            if let exchange {
                let late = options.timeLimit.map { elapsed() - validationSeconds >= $0 } ?? false
                let totals = try exchange.exchange(trainable: trainable, state: network.state, localCount: n,
                                                   globalCount: batch.globalCount, meanLoss: result.loss,
                                                   correct: result.correct, outOfTime: late)
                (batchLoss, batchCorrect, batchImages) = (totals.lossSum, totals.correct, batch.globalCount)
                if totals.outOfTime { outOfTime = true }
            }
            optimizer.step(trainable, learningRate: Float(learningRate))
            average?.update(trainable)
            globalStep += 1
            if globalStep % Lookahead.period == 0 {
                lookahead?.update(allArrays, step: globalStep, totalSteps: totalSteps)
            }
            step += 1
            lossSum += batchLoss
            correct += batchCorrect
            seen += batchImages
            let trainingSeconds = elapsed() - validationSeconds
            let speed = Double(seen) / max(1e-9, trainingSeconds - epochStart)
            try progress?(TrainingProgress(
                epoch: epoch + 1, epochs: options.epochs, step: step, stepsPerEpoch: stepsPerEpoch,
                loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen), learningRate: learningRate,
                imagesPerSecond: speed,
                secondsRemaining: Double((totalSteps - globalStep) * options.batchSize) / max(speed, 1e-9),
                validationAccuracy: nil))
            // Ranks stop together, on the verdict their exchange carried; one process asks its own clock.
            if exchange == nil, let limit = options.timeLimit, trainingSeconds >= limit { outOfTime = true }
            if outOfTime { break }
        }
        let record = EpochRecord(epoch: epoch + 1, trainLoss: lossSum / Double(max(seen, 1)),
                                 trainAccuracy: Double(correct) / Double(max(seen, 1)), learningRate: learningRate,
                                 elapsedSeconds: elapsed() - validationSeconds,
                                 imagesPerSecond: Double(seen) / max(1e-9, elapsed() - validationSeconds - epochStart))
        return (record, outOfTime)
    }

    /// The run ends on the lookahead average (steps since its last update are dropped, as in airbench).
    func finishLookahead() { lookahead?.finish(allArrays) }

    // MARK: Validation

    /// Validates the epoch's weights (the weight average when kept) on `validation` — plainly, or
    /// on the last epoch with the test-time views the model will predict with — records the
    /// result, keeps the best weights and decides early stopping.
    func validate(on validation: Dataset, record: inout EpochRecord, last: Bool,
                  progress: ((TrainingProgress) throws -> Void)?) throws {
        let start = elapsed()
        average?.swap(trainable)
        defer { average?.swap(trainable) }
        // Earlier epochs are validated plainly: each test-time view costs a pass.
        let (loss, accuracy) = try evaluate(on: validation, views: last ? options.testTimeAugmentation : .none)
        validationSeconds += elapsed() - start
        record.validationLoss = loss
        record.validationAccuracy = accuracy
        if history.bestValidationAccuracy.map({ accuracy > $0 }) ?? true {
            history.bestValidationAccuracy = accuracy
            history.bestEpoch = epoch + 1
            if options.keepBest { best = network.tensors() }
        } else if let patience = options.earlyStoppingPatience, let bestEpoch = history.bestEpoch,
                  epoch + 1 - bestEpoch >= patience {
            history.stoppedEarly = true
        }
        try progress?(TrainingProgress(
            epoch: epoch + 1, epochs: options.epochs, step: stepsPerEpoch, stepsPerEpoch: stepsPerEpoch,
            loss: record.trainLoss, accuracy: record.trainAccuracy, learningRate: record.learningRate,
            imagesPerSecond: record.imagesPerSecond, secondsRemaining: 0, validationAccuracy: accuracy))
    }

    /// Mean loss and accuracy on `validation`: one process evaluates it all; several ranks each
    /// evaluate their contiguous share and sum the totals, which gives the same numbers.
    private func evaluate(on validation: Dataset, views: TestTimeAugmentation) throws -> (loss: Double, accuracy: Double) {
        guard communicator.size > 1 else {
            return Trainer.evaluate(network, on: validation, normalization: normalization, batchSize: options.batchSize,
                                    views: views, threads: options.threads)
        }
        let shard = validationShard ?? validation.subset(Array(communicator.shard(of: validation.count)))
        validationShard = shard
        var totals = [0.0, 0.0]
        if !shard.isEmpty {
            let (loss, accuracy) = Trainer.evaluate(network, on: shard, normalization: normalization,
                                                    batchSize: options.batchSize, views: views, threads: options.threads)
            totals = [loss * Double(shard.count), (accuracy * Double(shard.count)).rounded()]
        }
        try communicator.allreduceSum(&totals)
        return (totals[0] / Double(validation.count), totals[1] / Double(validation.count))
    }

    // MARK: Checkpoint

    /// Adds the finished epoch to the history, moves on, and writes the checkpoint when asked.
    func endEpoch(_ record: EpochRecord, outOfTime: Bool) throws {
        history.epochs.append(record)
        history.peakMemoryBytes = peakResidentMemoryBytes()
        epoch += 1
        if outOfTime { history.stoppedEarly = true }
        if let path = options.checkpointPath, communicator.isRoot { try checkpoint().write(to: path) }
    }

    /// The run's whole state after `epoch` epochs.
    func checkpoint() -> Checkpoint {
        var arrays = [String: Tensor]()
        for (name, tensor) in network.tensors() { arrays["network/\(name)"] = tensor }
        for (name, values) in optimizer.state { arrays["optimizer/\(name)"] = Tensor(shape: [values.count], scalars: values) }
        for (name, tensor) in best ?? [:] { arrays["best/\(name)"] = tensor }
        for (p, values) in zip(trainable, average?.values ?? []) {
            arrays["ema/\(p.name)"] = Tensor(shape: [values.count], scalars: values)
        }
        for (p, values) in zip(allArrays, lookahead?.values ?? []) {
            arrays["lookahead/\(p.name)"] = Tensor(shape: p.shape, scalars: values)
        }
        let header = Checkpoint.Header(
            architecture: architecture, options: options, classNames: train.classNames, inputShape: inputShape,
            normalization: normalization, completedEpochs: epoch, globalStep: globalStep,
            optimizerSteps: optimizer.stepCount, history: history, arrays: [])
        return Checkpoint(header: header, arrays: arrays)
    }

    // MARK: Result

    /// The model: the weight average or lookahead average when kept, the best epoch's weights with `keepBest`.
    func result() throws -> TrainingResult {
        average?.swap(trainable)
        lookahead?.finish(allArrays)
        let tensors = options.keepBest ? (best ?? network.tensors()) : network.tensors()
        let model = try ConvNetClassifier(architecture: architecture, normalization: normalization, classNames: train.classNames,
                                          inputShape: inputShape, tensors: tensors,
                                          testTimeAugmentation: options.testTimeAugmentation)
        return TrainingResult(model: model, history: history)
    }
}

extension Checkpoint {
    /// The arrays whose names start with `prefix`, keyed by the rest of the name.
    func arrays(prefixed prefix: String) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: arrays.compactMap { key, value in
            key.hasPrefix(prefix) ? (String(key.dropFirst(prefix.count)), value) : nil
        })
    }
}
