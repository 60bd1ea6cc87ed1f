import PerceptCore
import PerceptPreprocessing

/// Minibatch stochastic gradient descent with momentum and learning-rate decay: the settings
/// every linear model and the two-layer net train with.
///
/// Each step takes a batch of `batchSize` training rows, computes the loss and its gradient,
/// and updates every parameter w with velocity v: v ← μ·v − η·∂L/∂w, w ← w + v. After each
/// epoch (one pass over the training rows) the learning rate η is multiplied by
/// `learningRateDecay`. Training rows are shuffled once with the seed when they are prepared
/// (`PreparedData.training`); each epoch visits the contiguous batches in a new seeded order.
public struct SGDOptions: Sendable, Codable, Equatable {
    /// η, the step size.
    public var learningRate: Float
    /// λ in the L2 penalty λ·Σ W² (biases are not penalised).
    public var regularization: Float
    /// μ, the share of the previous step carried into the next (0: plain SGD).
    public var momentum: Float
    /// η is multiplied by this after every epoch.
    public var learningRateDecay: Float
    public var batchSize: Int
    public var epochs: Int
    /// Stop after this many steps in all, even mid-epoch (nil: run every epoch).
    public var iterations: Int?
    /// Stop at the end of the first epoch whose validation accuracy reaches this (nil: never).
    public var targetValidationAccuracy: Double?
    /// Stop at the end of the first epoch that ends this many seconds or more after training began
    /// (nil: never): a time budget instead of, or on top of, `epochs`.
    public var timeLimit: Double?
    /// Seeds the initial weights and the batch order.
    public var seed: UInt64
    /// BLAS threads (nil: every core). The same seed and thread count give the same model.
    public var threads: Int?
    /// Training accuracy per epoch is measured on this many training rows.
    public var trainAccuracySample: Int

    public init(learningRate: Float = 1e-3, regularization: Float = 1e-4, momentum: Float = 0.9,
                learningRateDecay: Float = 0.95, batchSize: Int = 200, epochs: Int = 10, iterations: Int? = nil,
                targetValidationAccuracy: Double? = nil, timeLimit: Double? = nil, seed: UInt64 = 0, threads: Int? = nil,
                trainAccuracySample: Int = 2000) {
        self.learningRate = learningRate
        self.regularization = regularization
        self.momentum = momentum
        self.learningRateDecay = learningRateDecay
        self.batchSize = batchSize
        self.epochs = epochs
        self.iterations = iterations
        self.targetValidationAccuracy = targetValidationAccuracy
        self.timeLimit = timeLimit
        self.seed = seed
        self.threads = threads
        self.trainAccuracySample = trainAccuracySample
    }

    /// Throws `.invalidArgument` naming the first unusable setting.
    public func validate() throws {
        guard learningRate.isFinite && learningRate > 0 else {
            throw PerceptError.invalidArgument("the learning rate must be a positive number, got \(learningRate)")
        }
        guard regularization.isFinite && regularization >= 0 else {
            throw PerceptError.invalidArgument("the regularisation strength must be ≥ 0, got \(regularization)")
        }
        guard momentum >= 0 && momentum < 1 else {
            throw PerceptError.invalidArgument("momentum must lie in [0, 1), got \(momentum)")
        }
        guard learningRateDecay > 0 && learningRateDecay <= 1 else {
            throw PerceptError.invalidArgument("the learning-rate decay must lie in (0, 1], got \(learningRateDecay)")
        }
        guard batchSize >= 1 else { throw PerceptError.invalidArgument("the batch size must be at least 1, got \(batchSize)") }
        guard epochs >= 1 else { throw PerceptError.invalidArgument("training needs at least 1 epoch, got \(epochs)") }
        if let timeLimit, !(timeLimit.isFinite && timeLimit > 0) {
            throw PerceptError.invalidArgument("the time limit must be a positive number of seconds, got \(timeLimit)")
        }
        if let iterations, iterations < 1 {
            throw PerceptError.invalidArgument("iterations must be at least 1, got \(iterations)")
        }
        if let threads, threads < 1 { throw PerceptError.invalidArgument("threads must be at least 1, got \(threads)") }
    }
}
