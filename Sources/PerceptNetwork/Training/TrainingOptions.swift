import PerceptCore

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
    /// Average predictions over each image and its mirror image at validation and in the model.
    public var testTimeFlip: Bool = false
    /// Stop after this many seconds of training (checked between steps; what has been trained is
    /// then validated and kept like a finished epoch).
    public var timeLimit: Double?

    public init() {}

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

/// One finished epoch.
public struct EpochRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    public var learningRate: Double
    /// Wall-clock seconds of training since the run began (validation excluded), at the epoch's end.
    public var elapsedSeconds: Double
    public var imagesPerSecond: Double
}

/// The curve of a run, for the plot and the metrics JSON.
public struct TrainingHistory: Codable, Sendable, Equatable {
    public var epochs: [EpochRecord] = []
    /// The epoch (1-based) whose weights were kept.
    public var bestEpoch: Int?
    public var bestValidationAccuracy: Double?
    public var stoppedEarly = false
    /// Peak resident memory of the process in bytes, when the platform reports it.
    public var peakMemoryBytes: Int?

    public init() {}
}
