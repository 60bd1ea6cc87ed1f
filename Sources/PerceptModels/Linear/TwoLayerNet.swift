import Foundation
import PerceptCore
import PerceptDistributed
import PerceptData
import PerceptModelKit
import PerceptPreprocessing

/// A two-layer neural network: affine – ReLU – affine – softmax, the bridge from linear
/// classifiers to the CNN engine.
///
/// Shape letters: N items, D features, H hidden units, C classes. Scores are
/// s = W₂·max(0, W₁x + b₁) + b₂ with W₁ H×D and W₂ C×H; the loss is softmax cross-entropy plus
/// λ·(Σ W₁² + Σ W₂²). Trained by the same minibatch SGD as `LinearClassifier` (`SGDOptions`),
/// with the same features and preprocessing stored in the model.
///
/// Usage: `var net = TwoLayerNet(hiddenSize: 500, options: SGDOptions(learningRate: 1e-2)); try net.fit(train, validation: val)`.
public struct TwoLayerNet: Classifier {
    public var hiddenSize: Int
    public var features: ImageFeatures
    public var preprocessing: Preprocessing
    public var options: SGDOptions

    public private(set) var classNames: [String] = []
    /// H×D and H: the hidden layer.
    public private(set) var weights1 = Tensor(zeros: [0, 0])
    public private(set) var bias1: [Float] = []
    /// C×H and C: the output layer.
    public private(set) var weights2 = Tensor(zeros: [0, 0])
    public private(set) var bias2: [Float] = []
    public private(set) var pipeline: InputPipeline?
    public private(set) var history = TrainingHistory()

    public init(hiddenSize: Int = 100, features: ImageFeatures = .pixels, preprocessing: Preprocessing = .meanImage,
                options: SGDOptions = SGDOptions()) {
        self.hiddenSize = hiddenSize
        self.features = features
        self.preprocessing = preprocessing
        self.options = options
    }

    /// A fitted net from explicit weights (tests, loading).
    public init(pipeline: InputPipeline, weights1: Tensor, bias1: [Float], weights2: Tensor, bias2: [Float],
                classNames: [String], options: SGDOptions = SGDOptions()) throws {
        let d = pipeline.dimension, h = weights1.rows, c = classNames.count
        guard weights1.rank == 2, weights1.columns == d, bias1.count == h, weights2.rank == 2, weights2.rows == c,
              weights2.columns == h, bias2.count == c, h > 0 else {
            throw PerceptError.invalidData(
                "a two-layer net for \(d) features and \(c) classes needs H×\(d) and \(c)×H weights with H and \(c) biases; "
                + "got \(weights1.shape), \(bias1.count), \(weights2.shape), \(bias2.count)")
        }
        self.init(hiddenSize: h, features: pipeline.features, preprocessing: pipeline.preprocessing, options: options)
        self.pipeline = pipeline
        self.weights1 = weights1
        self.bias1 = bias1
        self.weights2 = weights2
        self.bias2 = bias2
        self.classNames = classNames
    }

    @discardableResult
    public mutating func fit(_ train: Dataset, validation: Dataset? = nil) throws -> TrainingHistory {
        try options.validate()
        let prepared = try PreparedData.trainingAndValidation(train, validation: validation, features: features,
                                                              preprocessing: preprocessing, options: options)
        return try fit(prepared.train, validation: prepared.validation)
    }

    /// Fits on prepared features; weights start He-initialised (Gaussian, variance 2/fan-in), biases at 0.
    /// With a `communicator` of several ranks, each batch is split across them (`MinibatchTrainer`).
    @discardableResult
    public mutating func fit(_ data: PreparedData, validation: PreparedData? = nil,
                             communicator: Communicator = SingleProcess()) throws -> TrainingHistory {
        try options.validate()
        guard hiddenSize >= 1 else { throw PerceptError.invalidArgument("the hidden layer needs at least 1 unit, got \(hiddenSize)") }
        guard data.count > 0 else { throw PerceptError.invalidData("cannot fit a two-layer net on an empty dataset") }
        guard data.classNames.count >= 2 else {
            throw PerceptError.invalidData("a classifier needs at least 2 classes, got \(data.classNames.count)")
        }
        let c = data.classNames.count, d = data.features.columns, h = hiddenSize
        var random = SeededRandom.stream(seed: options.seed, index: 0x2137)
        let scale1 = Float((2 / Double(d)).squareRoot()), scale2 = Float((2 / Double(h)).squareRoot())
        var parameters: [[Float]] = [(0..<(h * d)).map { _ in random.nextGaussian() * scale1 }, [Float](repeating: 0, count: h),
                                     (0..<(c * h)).map { _ in random.nextGaussian() * scale2 }, [Float](repeating: 0, count: c)]
        let lambda = options.regularization
        let history = try Self.trainMinibatches(parameters: &parameters, data: data, validation: validation, hidden: h,
                                                regularization: lambda, options: options, communicator: communicator)
        weights1 = Tensor(shape: [h, d], scalars: parameters[0])
        bias1 = parameters[1]
        weights2 = Tensor(shape: [c, h], scalars: parameters[2])
        bias2 = parameters[3]
        classNames = data.classNames
        pipeline = data.pipeline
        features = data.pipeline.features
        preprocessing = data.pipeline.preprocessing
        self.history = history
        return history
    }

    public func scores(for dataset: Dataset) throws -> Tensor {
        guard let pipeline else { throw PerceptError.invalidArgument("fit the TwoLayerNet before scoring") }
        return try scores(forPrepared: pipeline.transform(dataset, threads: options.threads))
    }

    /// N×C scores of already preprocessed N×D features.
    public func scores(forPrepared features: Tensor) throws -> Tensor {
        guard !classNames.isEmpty else { throw PerceptError.invalidArgument("fit the TwoLayerNet before scoring") }
        guard features.columns == weights1.columns else {
            throw PerceptError.invalidData("features have \(features.columns) values; the net expects \(weights1.columns)")
        }
        return BLAS.withThreadCount(forMultiplyAdds: features.rows * features.columns * weights1.rows) {
            Self.scores(features, parameters: [weights1.scalars, bias1, weights2.scalars, bias2],
                        hidden: weights1.rows, classes: classNames.count)
        }
    }

    /// The full loss (softmax data loss + λ·(Σ W₁² + Σ W₂²)) on prepared data.
    public func loss(on data: PreparedData) throws -> Double {
        softmaxCrossEntropyLoss(scores: try scores(forPrepared: data.features), labels: data.labels).loss
            + l2Regularization(weights1, strength: options.regularization).loss
            + l2Regularization(weights2, strength: options.regularization).loss
    }

    static func scores(_ features: Tensor, parameters: [[Float]], hidden h: Int, classes c: Int) -> Tensor {
        let d = features.columns
        let w1 = Tensor(shape: [h, d], scalars: parameters[0]), w2 = Tensor(shape: [c, h], scalars: parameters[2])
        return affineForward(reluForward(affineForward(features, weights: w1, bias: parameters[1])), weights: w2, bias: parameters[3])
    }
}
