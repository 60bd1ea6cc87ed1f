import Foundation

/// One finished epoch of any iteratively trained family (linear models, two-layer net, CNN).
public struct EpochRecord: Codable, Sendable, Equatable {
    /// 1-based.
    public var epoch: Int
    /// The mean minibatch loss of the epoch (data loss plus regularisation).
    public var trainLoss: Double
    /// Accuracy on the training images (a sample of them for the linear models).
    public var trainAccuracy: Double
    public var validationLoss: Double?
    public var validationAccuracy: Double?
    /// The learning rate at the epoch's end.
    public var learningRate: Double
    /// Wall-clock seconds of training since the run began (validation excluded), at the epoch's end.
    public var elapsedSeconds: Double
    public var imagesPerSecond: Double

    public init(epoch: Int, trainLoss: Double, trainAccuracy: Double, validationLoss: Double? = nil,
                validationAccuracy: Double? = nil, learningRate: Double, elapsedSeconds: Double = 0,
                imagesPerSecond: Double = 0) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
        self.learningRate = learningRate
        self.elapsedSeconds = elapsedSeconds
        self.imagesPerSecond = imagesPerSecond
    }
}

/// What happened while a model trained, for every family that trains by epochs: the curves
/// reports draw (loss per step, accuracy per epoch against epochs or wall time) and how the run ended.
///
/// One type for the linear models and the CNN engine, stored in model files as JSON (metadata
/// "history"); files written before the two were merged still decode (`init(from:)`).
public struct TrainingHistory: Codable, Sendable, Equatable {
    public var epochs: [EpochRecord] = []
    /// The minibatch loss of every step (the linear models record it; the CNN engine does not).
    public var iterationLosses: [Double] = []
    /// The epoch (1-based) whose weights were kept.
    public var bestEpoch: Int?
    public var bestValidationAccuracy: Double?
    public var stoppedEarly = false
    /// Peak resident memory of the process in bytes, when the platform reports it.
    public var peakMemoryBytes: Int?

    public init() {}

    /// Steps taken (recorded ones).
    public var iterations: Int { iterationLosses.count }
    public var epochLosses: [Double] { epochs.map(\.trainLoss) }
    public var trainAccuracies: [Double] { epochs.map(\.trainAccuracy) }
    /// Validation accuracy of each epoch that was validated.
    public var validationAccuracies: [Double] { epochs.compactMap(\.validationAccuracy) }
    public var learningRates: [Double] { epochs.map(\.learningRate) }
    /// The last epoch's validation accuracy, if there was validation data.
    public var finalValidationAccuracy: Double? { epochs.last?.validationAccuracy }

    private enum CodingKeys: String, CodingKey {
        case epochs, iterationLosses, bestEpoch, bestValidationAccuracy, stoppedEarly, peakMemoryBytes
        // The linear models' layout before the histories were merged: parallel arrays per epoch.
        case epochLosses, trainAccuracies, validationAccuracies, learningRates
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        iterationLosses = try container.decodeIfPresent([Double].self, forKey: .iterationLosses) ?? []
        bestEpoch = try container.decodeIfPresent(Int.self, forKey: .bestEpoch)
        bestValidationAccuracy = try container.decodeIfPresent(Double.self, forKey: .bestValidationAccuracy)
        stoppedEarly = try container.decodeIfPresent(Bool.self, forKey: .stoppedEarly) ?? false
        peakMemoryBytes = try container.decodeIfPresent(Int.self, forKey: .peakMemoryBytes)
        if let epochs = try container.decodeIfPresent([EpochRecord].self, forKey: .epochs) {
            self.epochs = epochs
            return
        }
        let losses = try container.decodeIfPresent([Double].self, forKey: .epochLosses) ?? []
        let train = try container.decodeIfPresent([Double].self, forKey: .trainAccuracies) ?? []
        let validation = try container.decodeIfPresent([Double].self, forKey: .validationAccuracies) ?? []
        let rates = try container.decodeIfPresent([Double].self, forKey: .learningRates) ?? []
        epochs = losses.indices.map { i in
            EpochRecord(epoch: i + 1, trainLoss: losses[i], trainAccuracy: i < train.count ? train[i] : 0,
                        validationAccuracy: i < validation.count ? validation[i] : nil,
                        learningRate: i < rates.count ? rates[i] : 0)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(epochs, forKey: .epochs)
        try container.encode(iterationLosses, forKey: .iterationLosses)
        try container.encodeIfPresent(bestEpoch, forKey: .bestEpoch)
        try container.encodeIfPresent(bestValidationAccuracy, forKey: .bestValidationAccuracy)
        try container.encode(stoppedEarly, forKey: .stoppedEarly)
        try container.encodeIfPresent(peakMemoryBytes, forKey: .peakMemoryBytes)
    }
}
