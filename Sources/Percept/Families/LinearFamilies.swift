import Foundation
import PerceptData
import PerceptImage
import PerceptModelKit
import PerceptModels
import PerceptReports

/// The options every minibatch-SGD family shares, with defaults measured on CIFAR-10
/// (Benchmarks/RESULTS.md, issue 4) that depend on the input features.
enum MinibatchSGDParameters {
    static let common = [
        ModelParameter("features", .choice(["pixels", "hog-color"]), default: "pixels",
                       help: "input features: pixels, or hog-color (HOG + hue histogram)"),
        ModelParameter("lr", .number(allowsZero: false), help: "learning rate (default: one suited to the family and features)"),
        ModelParameter("reg", .number(allowsZero: true), help: "L2 regularisation strength (default: suited to the features)"),
        ModelParameter("epochs", .integer(minimum: 1), help: "passes over the training images (default 14; mlp 10)"),
        ModelParameter("batch", .integer(minimum: 1), default: "200", help: "images per minibatch"),
        ModelParameter("decay", .number(allowsZero: false),
                       help: "learning-rate decay per epoch, in (0, 1] (default 0.8 for svm/softmax on pixels, else 0.9)"),
    ]

    /// The SGD settings for one family: the user's values where given, else the defaults.
    static func options(_ settings: ModelSettings, _ job: TrainingJob, learningRate: Double, regularization: Double,
                        decay: Float, epochs: Int) -> SGDOptions {
        SGDOptions(learningRate: Float(settings.number("lr") ?? learningRate),
                   regularization: Float(settings.number("reg") ?? regularization),
                   learningRateDecay: settings.number("decay").map(Float.init) ?? decay,
                   batchSize: settings.integer("batch") ?? 200, epochs: settings.integer("epochs") ?? epochs,
                   seed: job.seed, threads: job.threads)
    }

    static func features(_ settings: ModelSettings) throws -> ImageFeatures {
        try ImageFeatures(name: settings.text("features") ?? "pixels")
    }

    /// Fits a linear classifier with `loss`; defaults differ for pixels and HOG + colour.
    static func fitLinear(_ loss: ClassificationLoss, _ settings: ModelSettings, _ job: TrainingJob) throws -> FittedModel {
        let features = try features(settings)
        let onPixels = features.isPixels
        let options = loss == .hinge
            ? Self.options(settings, job, learningRate: onPixels ? 1e-3 : 1e-2, regularization: onPixels ? 1e-4 : 1e-3,
                           decay: onPixels ? 0.8 : 0.9, epochs: 14)
            : Self.options(settings, job, learningRate: onPixels ? 1e-2 : 3e-2, regularization: 1e-3,
                           decay: onPixels ? 0.8 : 0.9, epochs: 14)
        var model = LinearClassifier(loss: loss, features: features,
                                     preprocessing: onPixels ? .meanImage : .featureStandardization, options: options)
        let history = try model.fit(job.train, validation: job.validation)
        try job.progress(finalLine(history))
        return FittedModel(model: model, history: history)
    }

    static func finalLine(_ history: TrainingHistory) -> String {
        "\(history.epochs.count) epochs, final loss " + (history.epochLosses.last.map { String(format: "%.4f", $0) } ?? "n/a")
    }

    /// The loss and accuracy curves, and for a linear model on pixels its class templates.
    static func figures(_ saved: SavedModel) throws -> [ReportFigure] {
        var figures = TrainingCurves.perEpoch(saved)
        if let linear = saved.model as? LinearClassifier, linear.features.isPixels {
            figures.append(.png(try TemplateGrid().render(linear), alt: "class templates",
                                caption: "The visual view of the linear classifier: each class's row of W as an image, "
                                    + "rescaled to 0–255 — one template per class."))
        }
        return figures
    }
}

/// `--model svm`: f(x) = Wx + b with the multiclass SVM (hinge) loss.
public enum SupportVectorMachineFamily: ModelFamily {
    public static let name = "svm"
    public static let summary = "linear classifier Wx + b with the multiclass SVM (hinge) loss, minibatch SGD"
    public static let parameters = MinibatchSGDParameters.common
    public static let modelTypes: [any ArchivableModel.Type] = [LinearClassifier.self]
    public static let defaultInputSize = ImageSize(width: 32, height: 32)

    public static func fit(_ settings: ModelSettings, _ job: TrainingJob) throws -> FittedModel {
        try MinibatchSGDParameters.fitLinear(.hinge, settings, job)
    }

    public static func figures(for saved: SavedModel, evaluatedOn images: Dataset?) throws -> [ReportFigure] {
        try MinibatchSGDParameters.figures(saved)
    }
}

/// `--model softmax`: f(x) = Wx + b with the softmax (cross-entropy) loss.
public enum SoftmaxFamily: ModelFamily {
    public static let name = "softmax"
    public static let summary = "linear classifier Wx + b with the softmax (cross-entropy) loss, minibatch SGD"
    public static let parameters = MinibatchSGDParameters.common
    public static let modelTypes: [any ArchivableModel.Type] = [LinearClassifier.self]
    public static let defaultInputSize = ImageSize(width: 32, height: 32)

    public static func fit(_ settings: ModelSettings, _ job: TrainingJob) throws -> FittedModel {
        try MinibatchSGDParameters.fitLinear(.softmax, settings, job)
    }

    public static func figures(for saved: SavedModel, evaluatedOn images: Dataset?) throws -> [ReportFigure] {
        try MinibatchSGDParameters.figures(saved)
    }
}

/// `--model mlp`: affine – ReLU – affine – softmax, the lecture's two-layer network.
public enum TwoLayerNetFamily: ModelFamily {
    public static let name = "mlp"
    public static let summary = "two-layer network: affine – ReLU – affine – softmax, minibatch SGD"
    public static let parameters = MinibatchSGDParameters.common + [
        ModelParameter("hidden", .integer(minimum: 1), default: "500", help: "hidden units"),
    ]
    public static let modelTypes: [any ArchivableModel.Type] = [TwoLayerNet.self]
    public static let defaultInputSize = ImageSize(width: 32, height: 32)

    public static func fit(_ settings: ModelSettings, _ job: TrainingJob) throws -> FittedModel {
        let features = try MinibatchSGDParameters.features(settings)
        let onPixels = features.isPixels
        let options = MinibatchSGDParameters.options(settings, job, learningRate: onPixels ? 1e-2 : 3e-2,
                                                     regularization: 1e-3, decay: 0.9, epochs: 10)
        var model = TwoLayerNet(hiddenSize: settings.integer("hidden") ?? 500, features: features,
                                preprocessing: onPixels ? .channelStandardization : .featureStandardization, options: options)
        let history = try model.fit(job.train, validation: job.validation)
        try job.progress(MinibatchSGDParameters.finalLine(history))
        return FittedModel(model: model, history: history)
    }

    public static func figures(for saved: SavedModel, evaluatedOn images: Dataset?) throws -> [ReportFigure] {
        TrainingCurves.perEpoch(saved)
    }
}
