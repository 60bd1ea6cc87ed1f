import Foundation
import PerceptCore
import PerceptData

/// Features of a dataset through a backbone, kept on disk so a second `train` with another head
/// or regularisation skips the backbone (seconds instead of minutes).
///
/// One file per (dataset, backbone, preprocessing): `<folder>/<key>.bin`, a `BinaryContainer` of
/// kind "PRCPTFTR" holding the N × D features. The key is the SHA-256 of the dataset's pixels and
/// size, the backbone file's SHA-256 and the preprocessing, so changed images, another backbone or
/// another crop never meet old features; a damaged file is recomputed and rewritten.
public struct FeatureCache: Sendable {
    public static let kind = ContainerKind(magic: "PRCPTFTR", noun: "feature cache",
                                           advice: "it is a cache; delete it, Percept recomputes it")
    public var folder: String

    public init(folder: String = "\(PerceptCache.root)/features") {
        self.folder = folder
    }

    struct Description: Codable {
        var key: String
        var backbone: String
        var count: Int
        var featureCount: Int
    }

    /// The file name (without `.bin`) for `dataset`'s features through `spec`.
    public static func key(_ dataset: Dataset, _ spec: BackboneSpec) -> String {
        let backbone = spec.source == .onnx ? spec.sha256 : "\(spec.source.rawValue) seed \(spec.seed ?? 0)"
        return Checksum.sha256("percept-features 1\n\(Checksum.sha256(dataset))\n\(backbone)\n\(spec.preprocessingDescription)")
    }

    public func path(_ key: String) -> String { "\(folder)/\(key).bin" }

    /// The cached features when present and whole, else computed by `backbone` and stored.
    public func features(of dataset: Dataset, through backbone: Backbone, threads: Int? = nil,
                         progress: (String) throws -> Void = { _ in }) throws -> (features: Tensor, cached: Bool) {
        let key = Self.key(dataset, backbone.spec)
        if let features = read(key, count: dataset.count, featureCount: backbone.extractor.featureCount) {
            return (features, true)
        }
        let features = try backbone.features(of: dataset, threads: threads, progress: progress)
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let description = Description(key: key, backbone: backbone.spec.name, count: features.rows, featureCount: features.columns)
            try BinaryContainer.write(Self.kind, content: description,
                                      arrays: [ContainerArray("features", shape: features.shape, floats: features.scalars)],
                                      to: path(key))
        } catch {
            // A cache that cannot be written costs time next run, never this run's result.
            try progress("could not cache features in \(folder): \(error)")
        }
        return (features, false)
    }

    /// The features stored under `key`, or nil when absent, damaged or of another shape.
    func read(_ key: String, count: Int, featureCount: Int) -> Tensor? {
        let file = path(key)
        guard FileManager.default.fileExists(atPath: file),
              case .current(let opened)? = try? BinaryContainer.open(file, as: Self.kind),
              let description = try? opened.content(as: Description.self), description.key == key,
              let entry = try? opened.entry("features", type: .float32, shape: [count, featureCount]) else { return nil }
        return Tensor(shape: [count, featureCount], scalars: opened.floats(entry))
    }
}
