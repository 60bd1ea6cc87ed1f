import PerceptCore
import PerceptPreprocessing

/// Everything that decides how a network is trained. The same options, data and seed (and
/// thread count) give the same model.
public struct TrainingOptions: Codable, Sendable, Equatable {
    public enum OptimizerKind: String, Codable, Sendable { case sgd, adam }

    public var epochs: Int = 10
    public var batchSize: Int = 256
    public var optimizer: OptimizerKind = .sgd
    /// SGD momentum (β₁ for Adam is fixed at 0.9).
    public var momentum: Float = 0.9
    public var nesterov: Bool = true
    public var weightDecay: Float = 5e-4
    /// Decoupled (AdamW-style) weight decay instead of L2 added to the gradient.
    public var decoupledWeightDecay: Bool = false
    public var schedule = LearningRateSchedule(peak: 0.1, shape: .oneCycle(start: 0.1, peakAt: 0.2, final: 0.0))
    public var labelSmoothing: Float = 0.1
    public var augmentation = Augmentation()
    /// Per-channel input statistics; nil computes them from the training images.
    public var normalization: Normalization?
    public var seed: UInt64 = 1
    public var threads: Int = Parallel.defaultThreadCount
    /// Keep the weights of the epoch with the best validation accuracy (not the last).
    public var keepBest: Bool = true
    /// Stop when validation accuracy has not improved for this many epochs; nil never stops early.
    public var earlyStoppingPatience: Int?
    /// Written atomically after every epoch when set; `Trainer.fit(resume: true)` continues from it.
    public var checkpointPath: String?
    /// Keep an exponential moving average of the weights, w̄ ← d·w̄ + (1 − d)·w after every step,
    /// and validate and return it instead of the raw weights (Polyak averaging); nil turns it off.
    public var emaDecay: Float?
    /// Views whose predictions are averaged at prediction (and at the last epoch's validation).
    public var testTimeAugmentation = TestTimeAugmentation.none
    /// BatchNorm shifts learn with this many times the learning rate and 1/this the weight decay,
    /// and do decay (airbench's `bias_scaler` = 64); nil: same learning rate, no decay.
    public var biasScaler: Float?
    /// airbench's lookahead: every 5 steps the weights (and BatchNorm statistics) move to an average
    /// w̄ ← w̄ + (1 − α)(w − w̄) that follows them ever more slowly (α = 0.95⁵·(t/T)³), and the run
    /// ends on w̄.
    public var lookahead = false
    /// Train a whitening layer's bias for this many epochs, then freeze it (airbench: 3); nil trains it throughout.
    public var whiteningBiasEpochs: Int?
    /// Stop after this many seconds of training (checked between steps; what has been trained is
    /// then validated and kept like a finished epoch).
    public var timeLimit: Double?

    public init() {}

    /// Keller Jordan's airbench94 recipe (2024) for the `airbench94` architecture, in this engine's
    /// terms: batch 1024, Nesterov SGD with momentum 0.85, the triangular schedule 0.2 → 1 (at 20%)
    /// → 0.07, label smoothing 0.2, ±2-pixel reflect translation with alternating flips, BatchNorm
    /// shifts at 64× the learning rate, lookahead, whitening bias trained for 3 epochs, and mirror +
    /// translate test-time augmentation. airbench sums the loss over the batch; with the mean
    /// used here its learning rate 11.5/(1024·(1 + 1/(1 − 0.85))) per summed example becomes ×batch and its
    /// decay ÷batch (so other batch sizes keep airbench's per-example step).
    public static func airbench94(epochs: Int, batchSize: Int = 1024) -> TrainingOptions {
        var o = TrainingOptions()
        o.epochs = epochs
        o.batchSize = batchSize
        o.optimizer = .sgd
        o.momentum = 0.85
        o.nesterov = true
        let kilostepScale = 1024 * (1 + 1 / (1 - 0.85))
        let learningRatePerExample = 11.5 / kilostepScale  // per summed example, as airbench writes it
        let decayPerStep = 0.0153 * Double(batchSize) / kilostepScale
        o.schedule = LearningRateSchedule(peak: learningRatePerExample * Double(batchSize),
                                          shape: .oneCycle(start: 0.2, peakAt: 0.2, final: 0.07))
        o.weightDecay = Float(decayPerStep / learningRatePerExample / Double(batchSize))
        o.decoupledWeightDecay = false
        o.biasScaler = 64
        o.labelSmoothing = 0.2
        o.augmentation = Augmentation(translate: 2, flip: true, cutout: 0, alternatingFlip: true)
        o.lookahead = true
        o.whiteningBiasEpochs = 3
        o.testTimeAugmentation = .flipAndTranslate
        o.keepBest = false
        return o
    }

    /// airbench's 1,024 images per step, or for small training sets the largest power of two
    /// (≥ 32) that still gives 8 steps an epoch.
    public static func airbench94BatchSize(trainingImages: Int) -> Int {
        batchSize(trainingImages: trainingImages, largest: 1024)
    }

    /// `largest` images per step (the default 256), or for small training sets the largest power
    /// of two (≥ 32) that still gives 8 steps an epoch. Without it a folder of 200 photos trains on
    /// one whole-dataset batch per epoch: one step, and the activations of every image at once
    /// (ResNet-20 at 64×64 keeps ≈ 7 MB per image; Benchmarks/RESULTS.md, issue 14).
    public static func batchSize(trainingImages: Int, largest: Int = TrainingOptions().batchSize) -> Int {
        var batch = largest
        while batch > 32 && trainingImages / batch < 8 { batch /= 2 }
        return batch
    }

    /// Throws with the offending value when an option cannot work.
    public func validate() throws {
        guard epochs >= 1 else { throw PerceptError.invalidArgument("epochs must be ≥ 1, got \(epochs)") }
        guard batchSize >= 1 else { throw PerceptError.invalidArgument("batch size must be ≥ 1, got \(batchSize)") }
        guard schedule.peak > 0, schedule.peak.isFinite else {
            throw PerceptError.invalidArgument("learning rate must be a positive number, got \(schedule.peak)")
        }
        guard momentum >= 0, momentum < 1 else { throw PerceptError.invalidArgument("momentum must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0 else { throw PerceptError.invalidArgument("weight decay must be ≥ 0, got \(weightDecay)") }
        guard labelSmoothing >= 0, labelSmoothing < 1 else {
            throw PerceptError.invalidArgument("label smoothing must be in [0, 1), got \(labelSmoothing)")
        }
        guard threads >= 1 else { throw PerceptError.invalidArgument("threads must be ≥ 1, got \(threads)") }
        if let decay = emaDecay, !(decay >= 0 && decay <= 1) {
            throw PerceptError.invalidArgument("the weight-average decay must be in [0, 1], got \(decay)")
        }
        if let scaler = biasScaler, !(scaler > 0 && scaler.isFinite) {
            throw PerceptError.invalidArgument("the bias learning-rate scaler must be a positive number, got \(scaler)")
        }
        if let patience = earlyStoppingPatience, patience < 1 {
            throw PerceptError.invalidArgument("early-stopping patience must be ≥ 1 epoch, got \(patience)")
        }
    }
}

/// Where training is, for a progress bar.
public struct TrainingProgress: Sendable {
    public var epoch: Int            // 1-based
    public var epochs: Int
    public var step: Int             // 1-based within the epoch
    public var stepsPerEpoch: Int
    /// Running mean loss and accuracy of this epoch so far.
    public var loss: Double
    public var accuracy: Double
    public var learningRate: Double
    public var imagesPerSecond: Double
    /// Estimated seconds until training ends (without validation).
    public var secondsRemaining: Double
    /// Set once an epoch's validation has run (the step is then the last).
    public var validationAccuracy: Double?
}
