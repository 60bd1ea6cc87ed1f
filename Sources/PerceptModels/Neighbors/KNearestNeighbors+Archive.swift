import PerceptCore
import PerceptData
import PerceptModelKit

/// Model-file conformances of the neighbour models: k-NN keeps its whole training set, so the
/// archive holds the training pixels (a byte blob, N×H×W×C) or features (a tensor, N×D) and the
/// labels (Int32 blob); k, the metric and the weighting are the settings.
extension KNearestNeighbors: ArchivableModel {
    public static let kind = "knn"
    static let archiveVersion = 1

    struct Settings: Codable {
        var k: Int
        var metric: String
        var weighting: String
        /// "pixels" or "features".
        var input: String
    }

    public func archive() throws -> ModelArchive {
        guard engine != nil else { throw PerceptError.invalidArgument("fit KNearestNeighbors before saving it") }
        var archive = ModelArchive(kind: Self.kind, kindVersion: Self.archiveVersion, classNames: classNames,
                                   inputShape: inputShape)
        try archive.setSettings(Settings(k: k, metric: metric.rawValue, weighting: weighting.rawValue,
                                         input: trainingImages != nil ? "pixels" : "features"))
        if let images = trainingImages {
            archive.blobs["pixels"] = images.withPixelBytes { Array($0.prefix(images.count * images.imageByteCount)) }
        } else if let features = trainingFeatures {
            archive.tensors["features"] = features
        }
        archive.setInt32s(trainingLabels, as: "labels")
        return archive
    }

    public init(archive: ModelArchive) throws {
        try archive.require(kind: Self.kind, newestVersion: Self.archiveVersion)
        let settings = try archive.settings(as: Settings.self)
        self.init(k: settings.k, metric: try DistanceMetric(parsing: settings.metric),
                  weighting: try Weighting(parsing: settings.weighting))
        let labels = try archive.int32s("labels")
        switch settings.input {
        case "pixels":
            guard archive.inputShape.count == 3 else {
                throw PerceptError.invalidData("the knn model's input shape \(archive.inputShape) is not [height, width, channels]")
            }
            let shape = archive.inputShape
            try fit(Dataset(height: shape[0], width: shape[1], channels: shape[2],
                            pixels: PixelStorage(copying: try archive.blob("pixels")),
                            labels: labels, classNames: archive.classNames))
        case "features":
            try fit(features: try archive.tensor("features"), labels: labels, classNames: archive.classNames)
        default:
            throw PerceptError.invalidData("the knn model's input '\(settings.input)' is neither pixels nor features")
        }
    }
}

/// The lecture's first classifier: the label of the single nearest training image under L1.
/// A 1-NN `KNearestNeighbors` under its own name, saved as kind "nearest-neighbor".
public struct NearestNeighbor: ArchivableModel {
    public static let kind = "nearest-neighbor"
    public private(set) var model: KNearestNeighbors

    public init(metric: DistanceMetric = .l1, threads: Int? = nil) {
        model = KNearestNeighbors(k: 1, metric: metric, threads: threads)
    }

    public var metric: DistanceMetric { model.metric }
    public var classNames: [String] { model.classNames }

    /// Memorises the training images.
    public mutating func fit(_ dataset: Dataset) throws { try model.fit(dataset) }
    /// The nearest training image of each image (N×1).
    public func neighbors(of dataset: Dataset) throws -> NeighborList { try model.neighbors(of: dataset) }
    /// One-hot: 1 for the nearest training image's class.
    public func scores(for dataset: Dataset) throws -> Tensor { try model.scores(for: dataset) }
    public func topK(_ dataset: Dataset, k: Int) throws -> [[Int]] { try model.topK(dataset, k: k) }

    public func archive() throws -> ModelArchive {
        var archive = try model.archive()
        archive.kind = Self.kind
        return archive
    }

    public init(archive: ModelArchive) throws {
        try archive.require(kind: Self.kind, newestVersion: KNearestNeighbors.archiveVersion)
        var inner = archive
        inner.kind = KNearestNeighbors.kind
        model = try KNearestNeighbors(archive: inner)
        guard model.k == 1 else { throw PerceptError.invalidData("a nearest-neighbor model must have k = 1, got \(model.k)") }
    }
}

extension NearestClassMean: ArchivableModel {
    public static let kind = "nearest-class-mean"

    struct Settings: Codable {
        /// Which classes had training items (the others score −∞).
        var hasMean: [Bool]
    }

    public func archive() throws -> ModelArchive {
        guard !classNames.isEmpty else { throw PerceptError.invalidArgument("fit NearestClassMean before saving it") }
        var archive = ModelArchive(kind: Self.kind, classNames: classNames, inputShape: imageShape)
        try archive.setSettings(Settings(hasMean: hasMean))
        archive.tensors["means"] = means
        return archive
    }

    public init(archive: ModelArchive) throws {
        try archive.require(kind: Self.kind, newestVersion: 1)
        let settings = try archive.settings(as: Settings.self)
        let c = archive.classNames.count, d = archive.inputShape.reduce(1, *)
        guard archive.inputShape.count == 3, c > 0, settings.hasMean.count == c else {
            throw PerceptError.invalidData(
                "the nearest-class-mean model has \(c) classes, \(settings.hasMean.count) class flags and input \(archive.inputShape)")
        }
        self.init(classNames: archive.classNames, means: try archive.tensor("means", shape: [c, d]),
                  hasMean: settings.hasMean, imageShape: archive.inputShape)
    }
}
