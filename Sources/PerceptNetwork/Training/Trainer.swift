import Dispatch
import Foundation
import PerceptCore
import PerceptData
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
public final class Trainer {
    public let architecture: Architecture
    public var options: TrainingOptions

    public init(architecture: Architecture, options: TrainingOptions) {
        self.architecture = architecture
        self.options = options
    }

    /// Trains on `train`, validating on `validation` (when given and non-empty) after each epoch.
    /// With `resume`, continues from `options.checkpointPath` if that file exists. An error thrown
    /// by `progress` stops training (the last checkpoint stays) and is rethrown.
    public func fit(train: Dataset, validation: Dataset? = nil, resume: Bool = false,
                    progress: ((TrainingProgress) throws -> Void)? = nil) throws -> TrainingResult {
        try options.validate()
        guard train.count >= 1 else { throw PerceptError.invalidData("the training set is empty") }
        let validation = validation.flatMap { $0.isEmpty ? nil : $0 }
        if let validation {
            guard validation.height == train.height, validation.width == train.width, validation.channels == train.channels,
                  validation.classNames == train.classNames else {
                throw PerceptError.invalidData("the validation images or classes differ from the training set's")
            }
        }
        let inputShape = FeatureShape(height: train.height, width: train.width, channels: train.channels)
        let network = try Network(architecture: architecture, inputShape: inputShape, classCount: train.classCount,
                                  seed: options.seed)
        network.setThreads(options.threads)
        let optimizer: any Optimizer = switch options.optimizer {
        case .sgd: SGD(momentum: options.momentum, nesterov: options.nesterov, weightDecay: options.weightDecay,
                       decoupledWeightDecay: options.decoupledWeightDecay)
        case .adam: Adam(weightDecay: options.weightDecay, decoupledWeightDecay: options.decoupledWeightDecay)
        }
        var normalization = options.normalization ?? Trainer.channelStatistics(train)
        let whitening = network.layers.first as? Conv2D
        if let whitening, whitening.isWhitening {
            try Whitening.initialize(whitening, from: train, normalization: normalization, threads: options.threads)
        }
        if let scaler = options.biasScaler {
            for case let norm as BatchNorm in Trainer.allLayers(network.layers) {
                norm.shift.learningRateScale = scaler
                norm.shift.weightDecayScale = 1 / scaler
                norm.shift.decays = true
            }
        }
        var lookahead = options.lookahead ? Lookahead(network.parameters + network.state) : nil
        var history = TrainingHistory()
        var startEpoch = 0, globalStep = 0
        var best: [String: Tensor]?
        let trainableNames = network.parameters.filter(\.trainable).map(\.name)
        var average = WeightAverage(decay: options.emaDecay, parameters: network.parameters.filter(\.trainable))

        if resume, let path = options.checkpointPath, FileManager.default.fileExists(atPath: path) {
            let checkpoint = try Checkpoint.read(path)
            let h = checkpoint.header
            guard h.architecture == architecture else {
                throw PerceptError.invalidData(
                    "this checkpoint was made for architecture '\(h.architecture.name)' (\(h.architecture.layers.count) layers), not '\(architecture.name)' as now; use the same --arch or start afresh",
                    path: path)
            }
            guard h.classNames == train.classNames, h.inputShape == inputShape else {
                throw PerceptError.invalidData("this checkpoint was trained on other classes or image sizes", path: path)
            }
            let prefixed = { (prefix: String) in
                Dictionary(uniqueKeysWithValues: checkpoint.arrays.compactMap { key, value in
                    key.hasPrefix(prefix) ? (String(key.dropFirst(prefix.count)), value) : nil
                })
            }
            try network.load(prefixed("network/"))
            optimizer.state = prefixed("optimizer/").mapValues(\.scalars)
            optimizer.stepCount = h.optimizerSteps
            if lookahead != nil {
                let saved = prefixed("lookahead/")
                lookahead?.values = try (network.parameters + network.state).map { p in
                    guard let values = saved[p.name]?.scalars else {
                        throw PerceptError.invalidData("the checkpoint has no lookahead average for '\(p.name)'", path: path)
                    }
                    return values
                }
            }
            if average != nil {
                let saved = prefixed("ema/")
                average?.values = try trainableNames.map { name in
                    guard let values = saved[name]?.scalars else {
                        throw PerceptError.invalidData("the checkpoint has no weight average for '\(name)'", path: path)
                    }
                    return values
                }
            }
            let bestArrays = prefixed("best/")
            best = bestArrays.isEmpty ? nil : bestArrays
            normalization = h.normalization
            history = h.history
            startEpoch = h.completedEpochs
            globalStep = h.globalStep
        }
        for case let dropout as Dropout in Trainer.allLayers(network.layers) { dropout.step = globalStep }

        let pipeline = BatchPipeline(dataset: train, batchSize: options.batchSize, augmentation: options.augmentation,
                                     normalization: normalization, seed: options.seed)
        let stepsPerEpoch = pipeline.batchesPerEpoch
        let totalSteps = options.epochs * stepsPerEpoch
        let trainable = network.parameters.filter(\.trainable)
        let dLogits = FloatBuffer(capacity: options.batchSize * train.classCount)
        let clock = DispatchTime.now().uptimeNanoseconds
        let elapsedBefore = history.epochs.last?.elapsedSeconds ?? 0
        func elapsed() -> Double { elapsedBefore + Double(DispatchTime.now().uptimeNanoseconds - clock) / 1e9 }
        var validationSeconds = 0.0

        try BLAS.withThreadCount(options.threads) {
            var epoch = startEpoch
            while epoch < options.epochs && !history.stoppedEarly {
                pipeline.start(epoch: epoch)
                if let whitening, whitening.isWhitening, let epochs = options.whiteningBiasEpochs {
                    whitening.bias?.trainable = epoch < epochs
                }
                var lossSum = 0.0, correct = 0, seen = 0, step = 0
                let epochStart = elapsed() - validationSeconds
                var rate = 0.0
                var outOfTime = false
                while let batch = pipeline.next() {
                    let n = batch.count
                    let logits = network.forward(batch.images, batch: n, mode: .training)
                    let result = CrossEntropy.softmaxCrossEntropy(logits: logits.pointer, labels: batch.labels,
                                                                  classes: train.classCount, smoothing: options.labelSmoothing,
                                                                  dLogits: dLogits.pointer)
                    rate = options.schedule.rate(step: globalStep, totalSteps: totalSteps)
                    guard result.loss.isFinite else {
                        throw PerceptError.invalidData(
                            "training diverged at step \(globalStep + 1) (epoch \(epoch + 1)) with learning rate \(String(format: "%.4g", rate)): the loss is \(result.loss); lower the learning rate or add warm-up")
                    }
                    network.backward(dLogits, batch: n)
                    optimizer.step(trainable, learningRate: Float(rate))
                    average?.update(trainable)
                    globalStep += 1
                    if globalStep % Lookahead.period == 0 {
                        lookahead?.update(network.parameters + network.state, step: globalStep, totalSteps: totalSteps)
                    }
                    step += 1
                    lossSum += result.loss * Double(n)
                    correct += result.correct
                    seen += n
                    let trainingSeconds = elapsed() - validationSeconds
                    let speed = Double(seen) / max(1e-9, trainingSeconds - epochStart)
                    try progress?(TrainingProgress(
                        epoch: epoch + 1, epochs: options.epochs, step: step, stepsPerEpoch: stepsPerEpoch,
                        loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen), learningRate: rate,
                        imagesPerSecond: speed,
                        secondsRemaining: Double((totalSteps - globalStep) * options.batchSize) / max(speed, 1e-9),
                        validationAccuracy: nil))
                    if let limit = options.timeLimit, trainingSeconds >= limit { outOfTime = true; break }
                }
                var record = EpochRecord(epoch: epoch + 1, trainLoss: lossSum / Double(max(seen, 1)),
                                         trainAccuracy: Double(correct) / Double(max(seen, 1)), learningRate: rate,
                                         elapsedSeconds: elapsed() - validationSeconds,
                                         imagesPerSecond: Double(seen) / max(1e-9, elapsed() - validationSeconds - epochStart))
                let last = epoch + 1 == options.epochs || outOfTime
                // The run ends on the lookahead average: validate that, as the model will be.
                if last { lookahead?.finish(network.parameters + network.state) }
                if let validation {
                    let start = elapsed()
                    average?.swap(trainable)
                    defer { average?.swap(trainable) }
                    // Earlier epochs are validated plainly (test-time views cost a pass each); the
                    // last one the way the model will predict.
                    let (loss, accuracy) = Trainer.evaluate(network, on: validation, normalization: normalization,
                                                            batchSize: options.batchSize,
                                                            views: last ? options.testTimeAugmentation : .none,
                                                            threads: options.threads)
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
                        loss: record.trainLoss, accuracy: record.trainAccuracy, learningRate: rate,
                        imagesPerSecond: record.imagesPerSecond, secondsRemaining: 0, validationAccuracy: accuracy))
                }
                history.epochs.append(record)
                history.peakMemoryBytes = peakResidentMemoryBytes()
                epoch += 1
                if outOfTime { history.stoppedEarly = true }
                if let path = options.checkpointPath {
                    var checkpoint = Trainer.checkpoint(network: network, optimizer: optimizer, best: best, header: Checkpoint.Header(
                        architecture: architecture, options: options, classNames: train.classNames, inputShape: inputShape,
                        normalization: normalization, completedEpochs: epoch, globalStep: globalStep,
                        optimizerSteps: optimizer.stepCount, history: history, arrays: []))
                    for (name, values) in zip(trainableNames, average?.values ?? []) {
                        checkpoint.arrays["ema/\(name)"] = Tensor(shape: [values.count], scalars: values)
                    }
                    for (p, values) in zip(network.parameters + network.state, lookahead?.values ?? []) {
                        checkpoint.arrays["lookahead/\(p.name)"] = Tensor(shape: p.shape, scalars: values)
                    }
                    try checkpoint.write(to: path)
                }
            }
        }
        average?.swap(trainable)
        lookahead?.finish(network.parameters + network.state)
        let tensors = options.keepBest ? (best ?? network.tensors()) : network.tensors()
        let model = try ConvNetClassifier(architecture: architecture, normalization: normalization, classNames: train.classNames,
                                          inputShape: inputShape, tensors: tensors,
                                          testTimeAugmentation: options.testTimeAugmentation)
        return TrainingResult(model: model, history: history)
    }

    static func checkpoint(network: Network, optimizer: any Optimizer, best: [String: Tensor]?, header: Checkpoint.Header) -> Checkpoint {
        var arrays = [String: Tensor]()
        for (name, tensor) in network.tensors() { arrays["network/\(name)"] = tensor }
        for (name, values) in optimizer.state { arrays["optimizer/\(name)"] = Tensor(shape: [values.count], scalars: values) }
        for (name, tensor) in best ?? [:] { arrays["best/\(name)"] = tensor }
        return Checkpoint(header: header, arrays: arrays)
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

/// The exponential moving average of the trainable weights (`TrainingOptions.emaDecay`).
struct WeightAverage {
    let decay: Float
    var values: [[Float]]

    init?(decay: Float?, parameters: [Parameter]) {
        guard let decay else { return nil }
        self.decay = decay
        values = parameters.map(\.value)
    }

    /// w̄ ← d·w̄ + (1 − d)·w
    mutating func update(_ parameters: [Parameter]) {
        let d = decay
        for (k, p) in parameters.enumerated() {
            p.value.withUnsafeBufferPointer { w in
                values[k].withUnsafeMutableBufferPointer { a in
                    for i in 0..<a.count { a[i] = d * a[i] + (1 - d) * w[i] }
                }
            }
        }
    }

    /// Exchanges the average and the live weights (twice restores them).
    mutating func swap(_ parameters: [Parameter]) {
        for (k, p) in parameters.enumerated() { Swift.swap(&values[k], &p.value) }
    }
}

/// airbench's lookahead (after Zhang et al. 2019): a slow average of every weight and statistic
/// that the network is reset to every `period` steps; it trails further behind late in the run
/// (α = 0.95⁵·(t/T)³), which averages away the noise of the final high-rate steps.
struct Lookahead {
    static let period = 5
    var values: [[Float]]

    init(_ arrays: [Parameter]) { values = arrays.map(\.value) }

    /// w̄ ← w̄ + (1 − α)(w − w̄), then w ← w̄.
    mutating func update(_ arrays: [Parameter], step: Int, totalSteps: Int) {
        let progress = Double(step) / Double(max(1, totalSteps))
        let keep = Float(pow(0.95, 5) * progress * progress * progress)
        for (k, p) in arrays.enumerated() {
            values[k].withUnsafeMutableBufferPointer { average in
                p.value.withUnsafeMutableBufferPointer { w in
                    for i in 0..<w.count {
                        average[i] += (1 - keep) * (w[i] - average[i])
                        w[i] = average[i]
                    }
                }
            }
        }
    }

    /// The run ends on the average (steps since the last update are dropped, as in airbench).
    func finish(_ arrays: [Parameter]) {
        for (k, p) in arrays.enumerated() { p.value = values[k] }
    }
}
