import PerceptCore
import PerceptData

/// How features are centred and scaled before a linear model or network sees them. Learned
/// on the training set, stored in the model, applied unchanged at prediction.
public enum Preprocessing: String, Sendable, Codable, CaseIterable {
    /// Features as extracted.
    case none
    /// Subtract the mean training image (per pixel and channel; per feature for other features).
    case meanImage = "mean-image"
    /// Subtract each colour channel's mean and divide by its standard deviation (pixels only).
    case channelStandardization = "channel-standardization"
    /// Subtract each feature's mean and divide by its standard deviation.
    case featureStandardization = "feature-standardization"
}

/// The input side of a model: the features it extracts and the fitted centring and scaling,
/// x' = (x − offset)·scale per feature (D each).
public struct InputPipeline: Sendable, Equatable {
    public var features: ImageFeatures
    public var preprocessing: Preprocessing
    /// [H, W, C] of the images the pipeline was fitted on.
    public var inputShape: [Int]
    public var offset: [Float]
    public var scale: [Float]

    public init(features: ImageFeatures, preprocessing: Preprocessing, inputShape: [Int], offset: [Float], scale: [Float]) throws {
        guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
            throw PerceptError.invalidData("input shape \(inputShape) is not [height, width, channels]")
        }
        let d = features.dimension(height: inputShape[0], width: inputShape[1], channels: inputShape[2])
        guard offset.count == d, scale.count == d else {
            throw PerceptError.invalidData("\(features.name) features have \(d) values but the preprocessing has \(offset.count) offsets and \(scale.count) scales")
        }
        self.features = features
        self.preprocessing = preprocessing
        self.inputShape = inputShape
        self.offset = offset
        self.scale = scale
    }

    /// D, the length of a feature vector.
    public var dimension: Int { offset.count }

    /// Extracts `dataset`'s features and fits the preprocessing on them; returns the pipeline and
    /// the preprocessed N×D features of the items in `order` (default: all, in order).
    public static func fitted(on dataset: Dataset, features: ImageFeatures, preprocessing: Preprocessing,
                              order: [Int]? = nil, threads: Int? = nil) throws -> (pipeline: InputPipeline, matrix: Tensor) {
        guard !dataset.isEmpty else { throw PerceptError.invalidData("cannot fit on an empty dataset") }
        if preprocessing == .channelStandardization && !features.isPixels {
            throw PerceptError.invalidArgument("channel standardisation applies to pixel features; use feature-standardization for \(features.name)")
        }
        var matrix = try features.extract(from: dataset, order: order, threads: threads)
        let d = matrix.columns
        let (mean, variance) = columnMoments(matrix, threads: threads)
        var offset = [Float](repeating: 0, count: d), scale = [Float](repeating: 1, count: d)
        switch preprocessing {
        case .none: break
        case .meanImage: offset = mean.map(Float.init)
        case .featureStandardization:
            offset = mean.map(Float.init)
            scale = variance.map { $0 > 1e-12 ? Float(1 / $0.squareRoot()) : 1 }
        case .channelStandardization:
            let c = dataset.channels
            for channel in 0..<c {
                // Mean and variance of the channel over all its positions (law of total variance).
                let members = stride(from: channel, to: d, by: c)
                let count = Double(members.underestimatedCount)
                let channelMean = members.reduce(0.0) { $0 + mean[$1] } / count
                let channelVariance = members.reduce(0.0) { $0 + variance[$1] + (mean[$1] - channelMean) * (mean[$1] - channelMean) } / count
                let s: Float = channelVariance > 1e-12 ? Float(1 / channelVariance.squareRoot()) : 1
                for k in members {
                    offset[k] = Float(channelMean)
                    scale[k] = s
                }
            }
        }
        let pipeline = try InputPipeline(features: features, preprocessing: preprocessing,
                                         inputShape: [dataset.height, dataset.width, dataset.channels],
                                         offset: offset, scale: scale)
        pipeline.apply(to: &matrix, threads: threads)
        return (pipeline, matrix)
    }

    /// The preprocessed N×D features of `dataset` (items in `order`, default all).
    public func transform(_ dataset: Dataset, order: [Int]? = nil, threads: Int? = nil) throws -> Tensor {
        guard [dataset.height, dataset.width, dataset.channels] == inputShape else {
            throw PerceptError.invalidData(
                "images are \(dataset.width)x\(dataset.height)x\(dataset.channels) but the model was fitted on "
                + "\(inputShape[1])x\(inputShape[0])x\(inputShape[2]); import them with --size \(inputShape[1])x\(inputShape[0])")
        }
        var matrix = try features.extract(from: dataset, order: order, threads: threads)
        apply(to: &matrix, threads: threads)
        return matrix
    }
}

/// Features ready for training: preprocessed N×D rows, their labels, and the pipeline that made them.
public struct PreparedData: Sendable {
    public var pipeline: InputPipeline
    public var features: Tensor
    public var labels: [Int32]
    public var classNames: [String]
    /// For pixel features: the same rows as raw bytes (N×D), which the linear classifier streams
    /// instead of the Floats (a quarter of the memory traffic; `features` = (bytes/255 − offset)·scale).
    public var pixelBytes: [UInt8]?

    public init(pipeline: InputPipeline, features: Tensor, labels: [Int32], classNames: [String],
                pixelBytes: [UInt8]? = nil) throws {
        guard features.rows == labels.count else {
            throw PerceptError.invalidData("\(features.rows) feature rows but \(labels.count) labels")
        }
        guard features.columns == pipeline.dimension else {
            throw PerceptError.invalidData("features have \(features.columns) columns; the pipeline makes \(pipeline.dimension)")
        }
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= classNames.count }) {
            throw PerceptError.invalidData("label \(bad) is outside the \(classNames.count) classes")
        }
        self.pipeline = pipeline
        self.features = features
        self.labels = labels
        self.classNames = classNames
        if let pixelBytes {
            guard pipeline.features.isPixels, pixelBytes.count == features.count else {
                throw PerceptError.invalidData("pixel bytes given for \(pipeline.features.name) features, or of the wrong size")
            }
        }
        self.pixelBytes = pixelBytes
    }

    public var count: Int { labels.count }

    /// Fits a pipeline on `dataset` and prepares it with rows in a seeded random order (so that
    /// contiguous minibatches are random samples).
    public static func training(_ dataset: Dataset, features: ImageFeatures, preprocessing: Preprocessing,
                                seed: UInt64, threads: Int? = nil) throws -> PreparedData {
        var random = SeededRandom.stream(seed: seed, index: 0x5EED)
        let order = Array(0..<dataset.count).shuffled(using: &random)
        let (pipeline, matrix) = try InputPipeline.fitted(on: dataset, features: features, preprocessing: preprocessing,
                                                          order: order, threads: threads)
        let bytes = features.isPixels ? gatherPixelRows(of: dataset, order: order, threads: threads) : nil
        return try PreparedData(pipeline: pipeline, features: matrix, labels: order.map { dataset.labels[$0] },
                                classNames: dataset.classNames, pixelBytes: bytes)
    }

    /// `dataset` through an already fitted pipeline, in its own order (validation, test).
    public static func applying(_ pipeline: InputPipeline, to dataset: Dataset, threads: Int? = nil) throws -> PreparedData {
        try PreparedData(pipeline: pipeline, features: pipeline.transform(dataset, threads: threads),
                         labels: dataset.labels, classNames: dataset.classNames,
                         pixelBytes: pipeline.features.isPixels ? dataset.withPixelBytes { Array($0) } : nil)
    }
}
