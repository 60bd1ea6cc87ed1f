import Dispatch
import PerceptCore
import PerceptData
import PerceptEvaluation
import PerceptModels

/// A model family and its hyper-parameters: what `percept train --model …` describes.
public enum ModelRecipe: Sendable {
    /// The mean image of each class; the nearest mean wins.
    case nearestClassMean
    /// k-nearest neighbours in pixel space.
    case kNearestNeighbors(k: Int, metric: DistanceMetric, weighting: KNearestNeighbors.Weighting = .uniform)

    /// The short name used on the command line and in reports.
    public var name: String {
        switch self {
        case .nearestClassMean: return "ncm"
        case .kNearestNeighbors: return "knn"
        }
    }
}

/// A fitted model and how it did on the validation images.
public struct TrainedModel: Sendable {
    public var model: any ArchivableModel
    /// Accuracy on the validation split; nil when there was none.
    public var validationAccuracy: Double?
    public var seconds: Double
}

/// Fits `recipe` on `train` and measures it on `validation` (which it never trains on).
public func train(_ recipe: ModelRecipe, on train: Dataset, validation: Dataset?) throws -> TrainedModel {
    let start = DispatchTime.now()
    let model: any ArchivableModel
    switch recipe {
    case .nearestClassMean:
        var ncm = NearestClassMean()
        try ncm.fit(train)
        model = ncm
    case let .kNearestNeighbors(k, metric, weighting):
        var knn = KNearestNeighbors(k: k, metric: metric, weighting: weighting)
        try knn.fit(train)
        model = knn
    }
    var validationAccuracy: Double?
    if let validation, !validation.isEmpty {
        validationAccuracy = try accuracy(predicted: model.predict(validation), truth: validation.labels)
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    return TrainedModel(model: model, validationAccuracy: validationAccuracy, seconds: seconds)
}
