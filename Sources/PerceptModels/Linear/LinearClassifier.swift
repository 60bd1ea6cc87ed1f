import PerceptCore
import PerceptDistributed
import PerceptData
import PerceptModelKit
import PerceptPreprocessing

/// The lecture's parametric classifier f(x, W) = Wx + b: one score per class, a weighted sum of
/// the input's features plus a bias, trained with the multiclass SVM (hinge) or softmax loss.
///
/// Shape letters: N items, D features (3072 for 32×32×3 pixels), C classes. `weights` is C×D:
/// row c is class c's template (reshaped to H×W×C it is the "visual view"; see
/// `template(of:)`), and each score is a dot product with a template (the "algebraic view");
/// each row with its bias is a hyperplane in feature space (the "geometric view").
///
/// Usage:
/// ```swift
/// var model = LinearClassifier(loss: .hinge, options: SGDOptions(learningRate: 1e-3, regularization: 1e-4))
/// let history = try model.fit(train, validation: validation)
/// let labels = try model.predict(test)
/// ```
/// The features and their preprocessing (mean image, channel standardisation) are learned on
/// the training set and stored in the model; `scores(for:)` applies them to new images.
public struct LinearClassifier: Classifier {
    public typealias Loss = ClassificationLoss

    public var loss: Loss
    public var features: ImageFeatures
    public var preprocessing: Preprocessing
    public var options: SGDOptions
    /// Initial weights are Gaussian with this standard deviation (biases start at 0).
    public var initialScale: Float = 1e-3

    public private(set) var classNames: [String] = []
    /// C×D, one template per class.
    public private(set) var weights = Tensor(zeros: [0, 0])
    /// C biases.
    public private(set) var bias: [Float] = []
    public private(set) var pipeline: InputPipeline?
    /// The last fit's loss and accuracy curves.
    public private(set) var history = TrainingHistory()

    public init(loss: Loss = .softmax, features: ImageFeatures = .pixels,
                preprocessing: Preprocessing = .meanImage, options: SGDOptions = SGDOptions()) {
        self.loss = loss
        self.features = features
        self.preprocessing = preprocessing
        self.options = options
    }

    /// A fitted model from explicit numbers (tests, loading): W is C×D, b has C entries.
    public init(loss: Loss, pipeline: InputPipeline, weights: Tensor, bias: [Float], classNames: [String],
                options: SGDOptions = SGDOptions()) throws {
        guard weights.rank == 2, weights.rows == classNames.count, weights.columns == pipeline.dimension,
              bias.count == classNames.count else {
            throw PerceptError.invalidData(
                "a linear model for \(classNames.count) classes and \(pipeline.dimension) features needs "
                + "\(classNames.count)×\(pipeline.dimension) weights and \(classNames.count) biases; got \(weights.shape) and \(bias.count)")
        }
        self.init(loss: loss, features: pipeline.features, preprocessing: pipeline.preprocessing, options: options)
        self.pipeline = pipeline
        self.weights = weights
        self.bias = bias
        self.classNames = classNames
    }

    /// Fits the features' preprocessing and the weights on `train`; validation accuracy per
    /// epoch goes into the history when `validation` is given.
    @discardableResult
    public mutating func fit(_ train: Dataset, validation: Dataset? = nil) throws -> TrainingHistory {
        try options.validate()
        let prepared = try PreparedData.trainingAndValidation(train, validation: validation, features: features,
                                                              preprocessing: preprocessing, options: options)
        return try fit(prepared.train, validation: prepared.validation)
    }

    /// Fits the weights on prepared features (reuse one preparation across many settings). With a
    /// `communicator` of several ranks, each computes the gradient of its share of every batch and
    /// the ranks sum them before the identical update (`MinibatchTrainer`).
    @discardableResult
    public mutating func fit(_ data: PreparedData, validation: PreparedData? = nil,
                             communicator: Communicator = SingleProcess()) throws -> TrainingHistory {
        try options.validate()
        guard data.count > 0 else { throw PerceptError.invalidData("cannot fit a linear classifier on an empty dataset") }
        guard data.classNames.count >= 2 else {
            throw PerceptError.invalidData("a classifier needs at least 2 classes, got \(data.classNames.count)")
        }
        let c = data.classNames.count, d = data.features.columns
        var random = SeededRandom.stream(seed: options.seed, index: 0x1417)
        var parameters: [[Float]] = [(0..<(c * d)).map { _ in random.nextGaussian() * initialScale },
                                     [Float](repeating: 0, count: c)]
        let loss = self.loss, lambda = options.regularization, threads = options.threads ?? Parallel.defaultThreadCount
        // Pixel features train on the raw bytes with the preprocessing folded into the weights.
        let pixelBytes = c <= Dense.pixelPathClassLimit ? data.pixelBytes ?? [] : []
        let fold = PixelFold(data.pipeline)
        let history = try Self.trainMinibatches(parameters: &parameters, data: data, validation: validation,
                                                pixelBytes: pixelBytes, fold: fold, loss: loss, regularization: lambda,
                                                threads: threads, options: options, communicator: communicator)
        weights = Tensor(shape: [c, d], scalars: parameters[0])
        bias = parameters[1]
        classNames = data.classNames
        pipeline = data.pipeline
        features = data.pipeline.features
        preprocessing = data.pipeline.preprocessing
        self.history = history
        return history
    }

    /// N×C class scores Wx + b.
    public func scores(for dataset: Dataset) throws -> Tensor {
        guard let pipeline else { throw PerceptError.invalidArgument("fit the LinearClassifier before scoring") }
        return try scores(forPrepared: pipeline.transform(dataset, threads: options.threads))
    }

    /// N×C scores of already preprocessed N×D features.
    public func scores(forPrepared features: Tensor) throws -> Tensor {
        guard !classNames.isEmpty else { throw PerceptError.invalidArgument("fit the LinearClassifier before scoring") }
        guard features.columns == weights.columns else {
            throw PerceptError.invalidData("features have \(features.columns) values; the model expects \(weights.columns)")
        }
        return BLAS.withThreadCount(forMultiplyAdds: features.rows * features.columns * classNames.count) {
            Self.scores(features, weights: weights.scalars, bias: bias, c: classNames.count)
        }
    }

    /// The full loss (data loss + λ·Σ W²) of the model on prepared data.
    public func loss(on data: PreparedData) throws -> Double {
        let scores = try scores(forPrepared: data.features)
        return loss.evaluate(scores: scores, labels: data.labels).loss
            + l2Regularization(weights, strength: options.regularization).loss
    }

    /// Row `label` of W as an H×W×C array (pixel features only): the class's template.
    public func template(of label: Int) throws -> Tensor {
        guard let pipeline, pipeline.features.isPixels else {
            throw PerceptError.invalidArgument("templates exist only for a model fitted on pixel features")
        }
        guard classNames.indices.contains(label) else {
            throw PerceptError.invalidArgument("class \(label) is outside the model's \(classNames.count) classes")
        }
        let d = weights.columns
        return Tensor(shape: pipeline.inputShape, scalars: Array(weights.scalars[(label * d)..<((label + 1) * d)]))
    }
}
