import Foundation
import PerceptCore
import PerceptData
import PerceptModelKit

/// A pretrained backbone, frozen, with a small classifier trained on its features: transfer
/// learning's "features + logistic regression". It predicts on its own: the model file holds the
/// backbone's ONNX bytes as well as the head.
///
/// The backbone is embedded rather than stored once beside the model by checksum: a model file
/// that is copied, mailed or moved to another machine keeps working with nothing else to carry,
/// and EfficientNet-Lite0's ~18 MB is small next to what that saves a user. The SHA-256 recorded
/// at training is checked when the file is loaded, so a damaged backbone is named, not run.
public struct TransferModel: ArchivableModel, ProbabilisticClassifier {
    public static var kind: String { "transfer" }
    /// The archive layout this build writes and the newest it reads.
    static let layoutVersion = 1

    public let backbone: Backbone
    public let standardization: FeatureStandardization
    public let head: ClassifierHead
    public let classNames: [String]
    /// The L2 strength the head was trained with, and the validation curve it was chosen on.
    public let l2: Float
    let trials: [HeadTrainer.Trial]
    /// The size images are decoded to before the backbone's own resize: [H, W, C].
    public let inputShape: [Int]

    init(backbone: Backbone, standardization: FeatureStandardization, head: ClassifierHead, classNames: [String],
         l2: Float, trials: [HeadTrainer.Trial], inputShape: [Int]) {
        self.backbone = backbone
        self.standardization = standardization
        self.head = head
        self.classNames = classNames
        self.l2 = l2
        self.trials = trials
        self.inputShape = inputShape
    }

    public func scores(for dataset: Dataset) throws -> Tensor {
        let features = try backbone.features(of: dataset)
        return Tensor(shape: [dataset.count, head.classes], scalars: head.scores(standardization.apply(features), rows: dataset.count))
    }

    public func probabilities(for dataset: Dataset) throws -> Tensor {
        softmaxRows(try scores(for: dataset))
    }

    public func rankingWithProbabilities(_ dataset: Dataset, k: Int) throws -> (rankings: [[Int]], probabilities: Tensor) {
        guard k >= 1 else { throw PerceptError.invalidArgument("top-k needs k ≥ 1, got \(k)") }
        let scores = try scores(for: dataset)
        return (rankClasses(byScores: scores, k: k), softmaxRows(scores))
    }

    // MARK: - Archive

    /// What the settings JSON holds.
    struct Settings: Codable {
        var backbone: BackboneSpec
        var head: ClassifierHead.Kind
        var hidden: Int
        var l2: Float
        var trials: [HeadTrainer.Trial]
    }

    public func archive() throws -> ModelArchive {
        var archive = ModelArchive(kind: Self.kind, kindVersion: Self.layoutVersion, classNames: classNames, inputShape: inputShape)
        var spec = backbone.spec
        spec.labels = nil  // ImageNet's names say nothing about this model's classes
        try archive.setSettings(Settings(backbone: spec, head: head.kind, hidden: head.hidden, l2: l2, trials: trials))
        archive.tensors["standardization.mean"] = Tensor(shape: [standardization.mean.count], scalars: standardization.mean)
        archive.tensors["standardization.scale"] = Tensor(shape: [standardization.scale.count], scalars: standardization.scale)
        archive.tensors["head.parameters"] = Tensor(shape: [head.parameters.count], scalars: head.parameters)
        if let bytes = backbone.onnxBytes { archive.blobs["backbone.onnx"] = [UInt8](bytes) }
        archive.metadata["backbone"] = backbone.spec.name
        if !backbone.spec.sha256.isEmpty { archive.metadata["backbone sha256"] = backbone.spec.sha256 }
        archive.metadata["head"] = head.kind.rawValue
        archive.metadata["l2"] = String(l2)
        return archive
    }

    public init(archive: ModelArchive) throws {
        try archive.require(kind: Self.kind, newestVersion: Self.layoutVersion)
        let settings = try archive.settings(as: Settings.self)
        let spec = settings.backbone
        switch spec.source {
        case .randomFeatures:
            backbone = Backbone.randomFeatures(seed: spec.seed ?? 0)
        case .onnx:
            guard let bytes = archive.blobs["backbone.onnx"] else {
                throw PerceptError.invalidData("the transfer model's backbone '\(spec.name)' is missing from the file; "
                    + "train the model again with `percept train … --model transfer`")
            }
            backbone = try Backbone.onnx(Data(bytes), spec: spec, origin: nil)
        }
        let d = backbone.extractor.featureCount, c = archive.classNames.count
        standardization = FeatureStandardization(mean: try archive.tensor("standardization.mean", shape: [d]).scalars,
                                                 scale: try archive.tensor("standardization.scale", shape: [d]).scalars)
        let count = ClassifierHead.parameterCount(settings.head, d, settings.hidden, c)
        head = ClassifierHead(kind: settings.head, inputs: d, hidden: settings.hidden, classes: c,
                              parameters: try archive.tensor("head.parameters", shape: [count]).scalars)
        classNames = archive.classNames
        l2 = settings.l2
        trials = settings.trials
        inputShape = archive.inputShape
    }
}
