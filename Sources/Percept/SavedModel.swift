import Foundation
import PerceptCore
import PerceptData
import PerceptImage
import PerceptModels
import PerceptModelKit

/// A model loaded from a `.percept` file, whatever its family, with what the file says about
/// its input (size, resize mode) and how it was made.
public struct SavedModel: Sendable {
    public let model: any ArchivableModel
    public let kind: String
    /// The images the model expects: [H, W, C].
    public let inputShape: [Int]
    /// How other sizes are brought to `inputShape`.
    public let resizeMode: ResizeMode
    /// Facts recorded at training (dataset, validation accuracy, seed, …).
    public let metadata: [String: String]
    /// The family's settings (hyper-parameters) as pretty JSON, for people.
    public let settingsJSON: String
    public var classNames: [String] { model.classNames }
    public var inputSize: ImageSize { ImageSize(width: inputShape[1], height: inputShape[0]) }
    /// The family that made the model: the one `percept train` recorded, else the first that
    /// saves models of this kind.
    public var family: (any ModelFamily.Type)? {
        let recorded = metadata["family"] ?? metadata["recipe"]?.split(separator: " ").first.map(String.init)
        if let name = recorded, let family = try? ModelRegistry.family(named: name),
           family.modelTypes.contains(where: { $0.kind == kind }) {
            return family
        }
        return ModelRegistry.modelType(kind: kind)?.family
    }

    public init(_ model: any ArchivableModel, archive: ModelArchive) throws {
        guard archive.inputShape.count == 3, archive.inputShape.allSatisfy({ $0 > 0 }) else {
            throw PerceptError.invalidData("the model's input shape \(archive.inputShape) is not [height, width, channels]")
        }
        self.model = model
        kind = archive.kind
        inputShape = archive.inputShape
        resizeMode = archive.resizeMode.flatMap(ResizeMode.init(rawValue:)) ?? .squash
        metadata = archive.metadata
        let pretty = (try? JSONSerialization.jsonObject(with: archive.settings))
            .flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.prettyPrinted, .sortedKeys]) }
        settingsJSON = pretty.map { String(decoding: $0, as: UTF8.self) } ?? String(decoding: archive.settings, as: UTF8.self)
    }

    /// Reads a model file of any family.
    ///
    /// - Throws: the file's own errors (missing, not a model, damaged, newer version), or
    ///   `.unsupported` naming the family if this build does not know it.
    public static func load(_ path: String) throws -> SavedModel {
        let archive = try ModelFile.read(path)
        guard let (_, type) = ModelRegistry.modelType(kind: archive.kind) else {
            throw PerceptError.unsupported(path, "a \"\(archive.kind)\" model, which this Percept does not know "
                + "(it knows \(ModelRegistry.kinds.joined(separator: ", "))); update Percept")
        }
        let model: any ArchivableModel
        do {
            model = try restore(type, from: archive)
        } catch let error as PerceptError {
            throw error.path == nil ? PerceptError(error.kind, path: path, error.reason) : error
        }
        return try SavedModel(model, archive: archive)
    }

    private static func restore<Model: ArchivableModel>(_ family: Model.Type, from archive: ModelArchive) throws -> any ArchivableModel {
        try Model(archive: archive)
    }

    /// Brings a dataset to the model's input size (a no-op when it already matches).
    public func fitted(_ dataset: Dataset) throws -> Dataset {
        guard dataset.channels == inputShape[2] else {
            throw PerceptError.invalidData("the images have \(dataset.channels) channels, the model expects \(inputShape[2])")
        }
        if dataset.height == inputShape[0], dataset.width == inputShape[1] { return dataset }
        return try dataset.resized(to: inputSize, mode: resizeMode)
    }
}
