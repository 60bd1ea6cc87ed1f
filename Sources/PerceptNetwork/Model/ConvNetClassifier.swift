import Foundation
import PerceptCore
import PerceptData
import PerceptModelKit
import PerceptPreprocessing

/// A trained convolutional network as a Percept classifier: the architecture, the normalisation
/// its inputs need, and its learned arrays. Scores are softmax probabilities (N×C).
///
/// Stored in model files as kind "cnn": the architecture JSON and normalisation in the settings,
/// parameters and BatchNorm running statistics as named tensors.
public struct ConvNetClassifier: ArchivableModel {
    public static let kind = "cnn"
    public static let archiveVersion = 1

    public struct Settings: Codable, Sendable, Equatable {
        public var architecture: Architecture
        public var normalization: Normalization
        /// Average the probabilities of each image and its mirror image.
        public var testTimeFlip: Bool
        /// With `testTimeFlip`: also of both shifted by one pixel either way (airbench's TTA).
        /// Optional so that files written before it existed still load.
        public var testTimeTranslate: Bool?
    }

    public var settings: Settings
    public let classNames: [String]
    /// The images the network takes: H×W×C.
    public let inputShape: FeatureShape
    public let tensors: [String: Tensor]
    /// Images per inference batch and threads.
    public var batchSize = 256
    public var threads = Parallel.defaultThreadCount

    public init(architecture: Architecture, normalization: Normalization, classNames: [String], inputShape: FeatureShape,
                tensors: [String: Tensor], testTimeAugmentation: TestTimeAugmentation = .none) throws {
        settings = Settings(architecture: architecture, normalization: normalization,
                            testTimeFlip: testTimeAugmentation != .none,
                            testTimeTranslate: testTimeAugmentation == .flipAndTranslate ? true : nil)
        self.classNames = classNames
        self.inputShape = inputShape
        self.tensors = tensors
        _ = try makeNetwork()  // refuses arrays that do not fit the architecture
    }

    /// The views averaged at prediction.
    public var testTimeAugmentation: TestTimeAugmentation {
        get { !settings.testTimeFlip ? .none : settings.testTimeTranslate == true ? .flipAndTranslate : .flip }
        set {
            settings.testTimeFlip = newValue != .none
            settings.testTimeTranslate = newValue == .flipAndTranslate ? true : nil
        }
    }

    /// A fresh network holding these weights.
    public func makeNetwork() throws -> Network {
        let network = try Network(architecture: settings.architecture, inputShape: inputShape, classCount: classNames.count,
                                  seed: 0)
        try network.load(tensors)
        return network
    }

    public func scores(for dataset: Dataset) throws -> Tensor {
        guard dataset.height == inputShape.height, dataset.width == inputShape.width, dataset.channels == inputShape.channels else {
            throw PerceptError.invalidData(
                "the network takes \(inputShape.width)x\(inputShape.height)x\(inputShape.channels) images, the data is \(dataset.width)x\(dataset.height)x\(dataset.channels); resize it to the model's size")
        }
        let network = try makeNetwork()
        network.setThreads(threads)
        return BLAS.withThreadCount(threads) { Inference.probabilities(network, dataset: dataset, normalization: settings.normalization,
                                                                        batchSize: batchSize, views: testTimeAugmentation,
                                                                        threads: threads) }
    }

    public func archive() throws -> ModelArchive {
        var archive = ModelArchive(kind: Self.kind, kindVersion: Self.archiveVersion, classNames: classNames,
                                   inputShape: [inputShape.height, inputShape.width, inputShape.channels], tensors: tensors)
        try archive.setSettings(settings)
        archive.metadata["architecture"] = settings.architecture.name
        return archive
    }

    public init(archive: ModelArchive) throws {
        try archive.require(kind: Self.kind, newestVersion: Self.archiveVersion)
        guard archive.inputShape.count == 3 else {
            throw PerceptError.invalidData("the cnn model's input shape \(archive.inputShape) is not H×W×C")
        }
        let settings = try archive.settings(as: Settings.self)
        try self.init(architecture: settings.architecture, normalization: settings.normalization, classNames: archive.classNames,
                      inputShape: FeatureShape(height: archive.inputShape[0], width: archive.inputShape[1],
                                               channels: archive.inputShape[2]),
                      tensors: archive.tensors)
        self.settings = settings
    }
}

/// Which views of each image a network's predictions are averaged over.
public enum TestTimeAugmentation: String, Codable, Sendable, CaseIterable {
    case none
    /// The image and its mirror image.
    case flip
    /// airbench's level 2: ½ of the flip average above plus ½ of the same average over the image
    /// shifted by one pixel down-right and up-left (edges reflected): six forward passes.
    case flipAndTranslate = "flip-translate"

    /// The transforms and the weight of each one's probabilities.
    public var views: [(transform: ImageTransform, weight: Float)] {
        switch self {
        case .none: [(.identity, 1)]
        case .flip: [(.identity, 0.5), (ImageTransform(flip: true), 0.5)]
        case .flipAndTranslate:
            [(.identity, 0.25), (ImageTransform(flip: true), 0.25),
             (ImageTransform(dy: -1, dx: -1), 0.125), (ImageTransform(dy: -1, dx: -1, flip: true), 0.125),
             (ImageTransform(dy: 1, dx: 1), 0.125), (ImageTransform(dy: 1, dx: 1, flip: true), 0.125)]
        }
    }
}

/// Batched inference shared by the classifier and the trainer's validation.
enum Inference {
    /// Softmax probabilities for every image, in order (N×C), averaged over `views`.
    static func probabilities(_ network: Network, dataset: Dataset, normalization: Normalization, batchSize: Int,
                              views: TestTimeAugmentation, threads: Int) -> Tensor {
        let c = network.classCount
        var result = [Float](repeating: 0, count: dataset.count * c)
        let pipeline = BatchPipeline(dataset: dataset, batchSize: batchSize, augmentation: .none, normalization: normalization,
                                     seed: 0, shuffle: false, dropLast: false)
        pipeline.threads = threads
        let batch = Batch()
        for index in 0..<pipeline.batchesPerEpoch {
            let first = index * batchSize, n = min(batchSize, dataset.count - first)
            for (view, weight) in views.views {
                pipeline.assemble(first..<(first + n), transform: view, into: batch)
                let logits = network.forward(batch.images, batch: n, mode: .inference)
                Softmax.accumulate(logits.pointer, rows: n, classes: c, weight: weight, into: &result, offset: first * c)
            }
        }
        return Tensor(shape: [dataset.count, c], scalars: result)
    }
}

extension BatchPipeline {
    /// Fills `batch` with the given items in order, all with one transform (inference).
    func assemble(_ items: Range<Int>, transform: ImageTransform, into batch: Batch) {
        batch.labels = items.map { dataset.labels[$0] }
        batch.images.reserve(items.count * dataset.imageByteCount)
        dataset.withPixelBytes { bytes in
            BatchAssembly.assemble(pixels: bytes, height: dataset.height, width: dataset.width, channels: dataset.channels,
                                   sources: Array(items), transforms: Array(repeating: transform, count: items.count),
                                   normalization: normalization, output: batch.images.pointer, threads: threads)
        }
    }
}

extension ConvNetClassifier: ProbabilisticClassifier {
    /// The network's softmax output (what `scores` returns too).
    public func probabilities(for dataset: Dataset) throws -> Tensor { try scores(for: dataset) }

    /// Ranking and probabilities from one forward pass over the data.
    public func rankingWithProbabilities(_ dataset: Dataset, k: Int) throws -> (rankings: [[Int]], probabilities: Tensor) {
        guard k >= 1 else { throw PerceptError.invalidArgument("top-k needs k ≥ 1, got \(k)") }
        let probabilities = try scores(for: dataset)
        return (rankClasses(byScores: probabilities, k: k), probabilities)
    }
}
