import Dispatch
import Foundation
import PerceptCore
import PerceptData
import PerceptEvaluation
import PerceptModels
import PerceptNetwork
import PerceptModelKit

/// A model family and its hyper-parameters: what `percept train --model …` describes.
public enum ModelRecipe: Sendable {
    /// The mean image of each class; the nearest mean wins.
    case nearestClassMean
    /// k-nearest neighbours in pixel space.
    case kNearestNeighbors(k: Int, metric: DistanceMetric, weighting: KNearestNeighbors.Weighting = .uniform)
    /// f(x) = Wx + b with the multiclass SVM (hinge) or softmax loss, minibatch SGD.
    case linear(loss: ClassificationLoss, features: ImageFeatures, preprocessing: Preprocessing, options: SGDOptions)
    /// affine – ReLU – affine – softmax.
    case twoLayerNet(hiddenSize: Int, features: ImageFeatures, preprocessing: Preprocessing, options: SGDOptions)
    /// A convolutional network trained by the CNN engine.
    case convNet(architecture: Architecture, options: TrainingOptions, resume: Bool)

    /// The short name used on the command line and in reports.
    public var name: String {
        switch self {
        case .nearestClassMean: return "ncm"
        case .kNearestNeighbors: return "knn"
        case let .linear(loss, _, _, _): return loss == .hinge ? "svm" : "softmax"
        case .twoLayerNet: return "mlp"
        case let .convNet(architecture, _, _): return "cnn (\(architecture.name))"
        }
    }
}

/// A fitted model and how it did on the validation images.
public struct TrainedModel: Sendable {
    public var model: any ArchivableModel
    /// Accuracy on the validation split; nil when there was none.
    public var validationAccuracy: Double?
    public var seconds: Double
    /// The training curves as JSON (the family's own history type), for reports; nil for
    /// families that do not iterate (k-NN, nearest class mean).
    public var historyJSON: String?
}

private func json<T: Encodable>(_ value: T) -> String? {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) }
}

/// Tells `progress` how an SGD fit ended and returns its history as JSON for the model file.
private func reportSGD(_ history: TrainingHistory, _ progress: ((String) throws -> Void)?) throws -> String? {
    try progress?("\(history.epochLosses.count) epochs, final loss "
                  + (history.epochLosses.last.map { String(format: "%.4f", $0) } ?? "n/a"))
    return json(history)
}

/// Fits `recipe` on `train` and measures it on `validation` (which it never trains on).
///
/// `progress` receives a line now and then for families that train for a while (SGD epochs,
/// CNN steps); throwing from it stops training.
public func train(_ recipe: ModelRecipe, on train: Dataset, validation: Dataset?,
                  progress: ((String) throws -> Void)? = nil) throws -> TrainedModel {
    let start = DispatchTime.now()
    let model: any ArchivableModel
    var historyJSON: String?
    switch recipe {
    case .nearestClassMean:
        var ncm = NearestClassMean()
        try ncm.fit(train)
        model = ncm
    case let .kNearestNeighbors(k, metric, weighting):
        var knn = KNearestNeighbors(k: k, metric: metric, weighting: weighting)
        try knn.fit(train)
        model = knn
    case let .linear(loss, features, preprocessing, options):
        var linear = LinearClassifier(loss: loss, features: features, preprocessing: preprocessing, options: options)
        historyJSON = try reportSGD(try linear.fit(train, validation: validation), progress)
        model = linear
    case let .twoLayerNet(hiddenSize, features, preprocessing, options):
        var net = TwoLayerNet(hiddenSize: hiddenSize, features: features, preprocessing: preprocessing, options: options)
        historyJSON = try reportSGD(try net.fit(train, validation: validation), progress)
        model = net
    case let .convNet(architecture, options, resume):
        let result = try Trainer(architecture: architecture, options: options)
            .fit(train: train, validation: validation, resume: resume) { step in
                try progress?(String(format: "epoch %d/%d step %d/%d  loss %.3f  acc %.1f%%  %.0f img/s  ETA %.0f s",
                                     step.epoch, step.epochs, step.step, step.stepsPerEpoch, step.loss,
                                     step.accuracy * 100, step.imagesPerSecond, step.secondsRemaining)
                               + (step.validationAccuracy.map { String(format: "  val %.1f%%", $0 * 100) } ?? ""))
            }
        model = result.model
        historyJSON = json(result.history)
    }
    var validationAccuracy: Double?
    if let validation, !validation.isEmpty {
        validationAccuracy = try accuracy(predicted: model.predict(validation), truth: validation.labels)
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    return TrainedModel(model: model, validationAccuracy: validationAccuracy, seconds: seconds, historyJSON: historyJSON)
}
