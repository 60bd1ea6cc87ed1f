import Dispatch
import Foundation
import PerceptCore
import PerceptData
import PerceptImage
import PerceptModelKit
import PerceptModels
import PerceptReports

/// What every minibatch-SGD family (svm, softmax, mlp) shares: its options, with defaults
/// measured on CIFAR-10 (Benchmarks/RESULTS.md, issue 4) that depend on the input features, and
/// a search that prepares the features once for every setting that shares them.
enum MinibatchSGD {
    enum Model { case linear(ClassificationLoss), twoLayerNet }

    static let parameters = [
        ModelParameter("features", .choice(["pixels", "hog-color"]), default: "pixels",
                       help: "input features: pixels, or hog-color (HOG + hue histogram)"),
        ModelParameter("preprocessing", .choice(Preprocessing.allCases.map(\.rawValue)),
                       help: "input standardisation (default: mean-image on pixels for svm/softmax, channel-standardization "
                           + "for mlp, feature-standardization on hog-color)"),
        ModelParameter("lr", .number(allowsZero: false), help: "learning rate (default: one suited to the family and features)"),
        ModelParameter("reg", .number(allowsZero: true), help: "L2 regularisation strength (default: suited to the features)"),
        ModelParameter("epochs", .integer(minimum: 1), help: "passes over the training images (default 14; mlp 10)"),
        ModelParameter("time-limit", .number(allowsZero: false),
                       help: "stop after the first epoch that ends this many seconds into training; a budget instead of, "
                           + "or on top of, --epochs"),
        ModelParameter("batch", .integer(minimum: 1), default: "200", help: "images per minibatch"),
        ModelParameter("momentum", .number(allowsZero: true), default: "0.9", help: "SGD momentum μ in [0, 1)"),
        ModelParameter("decay", .number(allowsZero: false),
                       help: "learning-rate decay per epoch, in (0, 1] (default 0.8 for svm/softmax on pixels, else 0.9)"),
    ]

    /// The features, preprocessing and SGD settings one setting describes: the user's values
    /// where given, else the family's defaults for those features.
    static func plan(_ model: Model, _ settings: ModelSettings, seed: UInt64, threads: Int?) throws
        -> (features: ImageFeatures, preprocessing: Preprocessing, options: SGDOptions) {
        let features = try ImageFeatures(name: settings.text("features") ?? "pixels")
        let onPixels = features.isPixels
        let learningRate: Double, regularization: Double, decay: Float, epochs: Int, preprocessing: Preprocessing
        switch model {
        case .linear(.hinge):
            (learningRate, regularization, decay, epochs) = (onPixels ? 1e-3 : 1e-2, onPixels ? 1e-4 : 1e-3, onPixels ? 0.8 : 0.9, 14)
            preprocessing = onPixels ? .meanImage : .featureStandardization
        case .linear:
            (learningRate, regularization, decay, epochs) = (onPixels ? 1e-2 : 3e-2, 1e-3, onPixels ? 0.8 : 0.9, 14)
            preprocessing = onPixels ? .meanImage : .featureStandardization
        case .twoLayerNet:
            (learningRate, regularization, decay, epochs) = (onPixels ? 1e-2 : 3e-2, 1e-3, 0.9, 10)
            preprocessing = onPixels ? .channelStandardization : .featureStandardization
        }
        let options = SGDOptions(learningRate: Float(settings.number("lr") ?? learningRate),
                                 regularization: Float(settings.number("reg") ?? regularization),
                                 momentum: Float(settings.number("momentum") ?? 0.9),
                                 learningRateDecay: settings.number("decay").map(Float.init) ?? decay,
                                 batchSize: settings.integer("batch") ?? 200, epochs: settings.integer("epochs") ?? epochs,
                                 timeLimit: settings.number("time-limit"), seed: seed, threads: threads)
        try options.validate()
        return (features, settings.text("preprocessing").flatMap(Preprocessing.init(rawValue:)) ?? preprocessing, options)
    }

    static func fit(_ model: Model, _ settings: ModelSettings, _ job: TrainingJob) throws -> FittedModel {
        let (features, preprocessing, options) = try plan(model, settings, seed: job.seed, threads: job.threads)
        let prepared = try PreparedData.trainingAndValidation(job.train, validation: job.validation, features: features,
                                                              preprocessing: preprocessing, options: options)
        let fitted = try fit(model, settings, prepared: prepared.train, validation: prepared.validation, job)
        try job.progress("\(fitted.history?.epochs.count ?? 0) epochs, final loss "
                         + (fitted.history?.epochLosses.last.map { String(format: "%.4f", $0) } ?? "n/a"))
        return fitted
    }

    /// Fits on features already prepared with the setting's features and preprocessing.
    static func fit(_ model: Model, _ settings: ModelSettings, prepared: PreparedData, validation: PreparedData?,
                    _ job: TrainingJob) throws -> FittedModel {
        let (features, preprocessing, options) = try plan(model, settings, seed: job.seed, threads: job.threads)
        switch model {
        case let .linear(loss):
            var linear = LinearClassifier(loss: loss, features: features, preprocessing: preprocessing, options: options)
            let history = try linear.fit(prepared, validation: validation, communicator: job.communicator)
            return FittedModel(model: linear, history: history)
        case .twoLayerNet:
            var net = TwoLayerNet(hiddenSize: settings.integer("hidden") ?? 500, features: features,
                                  preprocessing: preprocessing, options: options)
            let history = try net.fit(prepared, validation: validation, communicator: job.communicator)
            return FittedModel(model: net, history: history)
        }
    }

    /// Every setting, with the features prepared once per (features, preprocessing) pair: what
    /// `percept tune svm|softmax|mlp` runs. A diverging setting is a failure, not an error.
    static func fitEach(_ model: Model, _ settings: [ModelSettings], _ job: TrainingJob) throws -> [Result<FittedModel, PerceptError>] {
        var prepared: [String: (train: PreparedData, validation: PreparedData?)] = [:]
        var results: [Result<FittedModel, PerceptError>] = []
        for (index, setting) in settings.enumerated() {
            try job.progress("setting \(index + 1)/\(settings.count)")
            let (features, preprocessing, options) = try plan(model, setting, seed: job.seed, threads: job.threads)
            let key = "\(features.name) \(preprocessing.rawValue)"
            if prepared[key] == nil {
                try job.progress("extracting \(features.name) features …")
                let both = try PreparedData.trainingAndValidation(job.train, validation: job.validation, features: features,
                                                                  preprocessing: preprocessing, options: options)
                prepared[key] = (both.train, both.validation)
            }
            guard let data = prepared[key] else { continue }
            let start = DispatchTime.now()
            do {
                var fitted = try fit(model, setting, prepared: data.train, validation: data.validation, job)
                fitted.seconds = secondsSince(start)
                results.append(.success(fitted))
            } catch let error as PerceptError where error.kind == .invalidArgument {
                results.append(.failure(error))
            }
        }
        return results
    }

    /// Learning rates and regularisation strengths around each family's defaults (measured on
    /// CIFAR-10, Benchmarks/RESULTS.md, issue 4), for pixels or HOG + colour.
    static func searchSpace(_ model: Model, _ fixed: ModelSettings) -> [(name: String, values: [String])] {
        let hog = fixed.text("features") == "hog-color"
        let (rates, strengths): (String, String)
        switch model {
        case .linear(.hinge): (rates, strengths) = hog ? ("3e-3,1e-2,3e-2", "1e-4,1e-3,1e-2") : ("3e-4,1e-3,3e-3", "1e-4,1e-3,1e-2")
        case .linear: (rates, strengths) = hog ? ("1e-2,3e-2,1e-1", "1e-4,1e-3,1e-2") : ("3e-3,1e-2,3e-2", "1e-4,1e-3,1e-2")
        case .twoLayerNet: (rates, strengths) = hog ? ("1e-2,3e-2,1e-1", "1e-4,1e-3") : ("3e-3,1e-2", "1e-4,1e-3")
        }
        return [("lr", rates.split(separator: ",").map(String.init)), ("reg", strengths.split(separator: ",").map(String.init))]
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

/// A family trained by `MinibatchSGD`: it names its model; the options, defaults, fitting, search
/// and report pictures come from here.
protocol MinibatchSGDFamily: ModelFamily {
    static var model: MinibatchSGD.Model { get }
}

extension MinibatchSGDFamily {
    public static var parameters: [ModelParameter] { MinibatchSGD.parameters }
    public static var defaultInputSize: ImageSize { ImageSize(width: 32, height: 32) }

    public static func fit(_ settings: ModelSettings, _ job: TrainingJob) throws -> FittedModel {
        try MinibatchSGD.fit(model, settings, job)
    }

    public static func fitEach(_ settings: [ModelSettings], _ job: TrainingJob) throws -> [Result<FittedModel, PerceptError>] {
        try MinibatchSGD.fitEach(model, settings, job)
    }

    public static func searchSpace(_ fixed: ModelSettings) -> [(name: String, values: [String])] {
        MinibatchSGD.searchSpace(model, fixed)
    }

    public static func figures(for saved: SavedModel, evaluatedOn images: Dataset?) throws -> [ReportFigure] {
        try MinibatchSGD.figures(saved)
    }
}

/// `--model svm`: f(x) = Wx + b with the multiclass SVM (hinge) loss.
public enum SupportVectorMachineFamily: MinibatchSGDFamily {
    public static let name = "svm"
    public static let summary = "linear classifier Wx + b with the multiclass SVM (hinge) loss, minibatch SGD"
    public static let modelTypes: [any ArchivableModel.Type] = [LinearClassifier.self]
    static let model = MinibatchSGD.Model.linear(.hinge)
}

/// `--model softmax`: f(x) = Wx + b with the softmax (cross-entropy) loss.
public enum SoftmaxFamily: MinibatchSGDFamily {
    public static let name = "softmax"
    public static let summary = "linear classifier Wx + b with the softmax (cross-entropy) loss, minibatch SGD"
    public static let modelTypes: [any ArchivableModel.Type] = [LinearClassifier.self]
    static let model = MinibatchSGD.Model.linear(.softmax)
}

/// `--model mlp`: affine – ReLU – affine – softmax, the lecture's two-layer network.
public enum TwoLayerNetFamily: MinibatchSGDFamily {
    public static let name = "mlp"
    public static let summary = "two-layer network: affine – ReLU – affine – softmax, minibatch SGD"
    public static let parameters = MinibatchSGD.parameters + [
        ModelParameter("hidden", .integer(minimum: 1), default: "500", help: "hidden units"),
    ]
    public static let modelTypes: [any ArchivableModel.Type] = [TwoLayerNet.self]
    static let model = MinibatchSGD.Model.twoLayerNet
}
