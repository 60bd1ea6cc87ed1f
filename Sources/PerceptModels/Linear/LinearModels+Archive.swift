import PerceptCore
import PerceptModelKit
import PerceptPreprocessing

// Saving and loading the linear models through the common model archive: settings (loss,
// features, preprocessing, training options) as JSON, the learned numbers as named tensors.

/// The settings both linear families store.
struct LinearModelSettings: Codable {
    var loss: ClassificationLoss
    var features: ImageFeatures
    var preprocessing: Preprocessing
    var options: SGDOptions
}

extension InputPipeline {
    /// Adds the preprocessing's offset and scale to `archive`'s tensors.
    func store(in archive: inout ModelArchive) {
        archive.tensors["offset"] = Tensor(shape: [dimension], scalars: offset)
        archive.tensors["scale"] = Tensor(shape: [dimension], scalars: scale)
    }

    /// The pipeline described by an archive's input shape, settings and offset/scale tensors.
    init(archive: ModelArchive, features: ImageFeatures, preprocessing: Preprocessing) throws {
        guard archive.inputShape.count == 3, archive.inputShape.allSatisfy({ $0 > 0 }) else {
            throw PerceptError.invalidData("the \(archive.kind) model's input shape \(archive.inputShape) is not [height, width, channels]")
        }
        let d = features.dimension(height: archive.inputShape[0], width: archive.inputShape[1], channels: archive.inputShape[2])
        try self.init(features: features, preprocessing: preprocessing, inputShape: archive.inputShape,
                      offset: archive.tensor("offset", shape: [d]).scalars, scale: archive.tensor("scale", shape: [d]).scalars)
    }
}

extension LinearClassifier: ArchivableModel {
    public static var kind: String { "linear" }

    public func archive() throws -> ModelArchive {
        guard let pipeline, !classNames.isEmpty else { throw PerceptError.invalidArgument("fit the LinearClassifier before saving it") }
        var archive = ModelArchive(kind: Self.kind, classNames: classNames, inputShape: pipeline.inputShape)
        try archive.setSettings(LinearModelSettings(loss: loss, features: pipeline.features,
                                                    preprocessing: pipeline.preprocessing, options: options))
        archive.tensors["weights"] = weights
        archive.tensors["bias"] = Tensor(shape: [bias.count], scalars: bias)
        pipeline.store(in: &archive)
        archive.metadata["loss"] = loss.rawValue
        archive.metadata["features"] = pipeline.features.name
        archive.metadata["preprocessing"] = pipeline.preprocessing.rawValue
        if let accuracy = history.finalValidationAccuracy { archive.metadata["validation accuracy"] = String(accuracy) }
        return archive
    }

    public init(archive: ModelArchive) throws {
        try archive.require(kind: Self.kind, newestVersion: 1)
        let settings = try archive.settings(as: LinearModelSettings.self)
        let pipeline = try InputPipeline(archive: archive, features: settings.features, preprocessing: settings.preprocessing)
        let c = archive.classNames.count
        try self.init(loss: settings.loss, pipeline: pipeline,
                      weights: archive.tensor("weights", shape: [c, pipeline.dimension]),
                      bias: archive.tensor("bias", shape: [c]).scalars, classNames: archive.classNames, options: settings.options)
    }
}

extension TwoLayerNet: ArchivableModel {
    public static var kind: String { "two-layer-net" }

    public func archive() throws -> ModelArchive {
        guard let pipeline, !classNames.isEmpty else { throw PerceptError.invalidArgument("fit the TwoLayerNet before saving it") }
        var archive = ModelArchive(kind: Self.kind, classNames: classNames, inputShape: pipeline.inputShape)
        try archive.setSettings(LinearModelSettings(loss: .softmax, features: pipeline.features,
                                                    preprocessing: pipeline.preprocessing, options: options))
        archive.tensors["weights1"] = weights1
        archive.tensors["bias1"] = Tensor(shape: [bias1.count], scalars: bias1)
        archive.tensors["weights2"] = weights2
        archive.tensors["bias2"] = Tensor(shape: [bias2.count], scalars: bias2)
        pipeline.store(in: &archive)
        archive.metadata["hidden units"] = String(weights1.rows)
        archive.metadata["features"] = pipeline.features.name
        archive.metadata["preprocessing"] = pipeline.preprocessing.rawValue
        if let accuracy = history.finalValidationAccuracy { archive.metadata["validation accuracy"] = String(accuracy) }
        return archive
    }

    public init(archive: ModelArchive) throws {
        try archive.require(kind: Self.kind, newestVersion: 1)
        let settings = try archive.settings(as: LinearModelSettings.self)
        let pipeline = try InputPipeline(archive: archive, features: settings.features, preprocessing: settings.preprocessing)
        let c = archive.classNames.count
        let weights1 = try archive.tensor("weights1")
        guard weights1.rank == 2, weights1.columns == pipeline.dimension else {
            throw PerceptError.invalidData("the two-layer-net model's 'weights1' array is \(weights1.shape), expected [H, \(pipeline.dimension)]")
        }
        let h = weights1.rows
        try self.init(pipeline: pipeline, weights1: weights1, bias1: archive.tensor("bias1", shape: [h]).scalars,
                      weights2: archive.tensor("weights2", shape: [c, h]), bias2: archive.tensor("bias2", shape: [c]).scalars,
                      classNames: archive.classNames, options: settings.options)
    }
}
