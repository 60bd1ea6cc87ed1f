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
    /// 2: the test-time views as one `testTimeAugmentation` setting (1, two flags, still loads).
    public static let archiveVersion = 2

    public struct Settings: Codable, Sendable, Equatable {
        public var architecture: Architecture
        public var normalization: Normalization
        /// The views whose probabilities are averaged at prediction.
        public var testTimeAugmentation: TestTimeAugmentation

        public init(architecture: Architecture, normalization: Normalization,
                    testTimeAugmentation: TestTimeAugmentation = .none) {
            self.architecture = architecture
            self.normalization = normalization
            self.testTimeAugmentation = testTimeAugmentation
        }

        private enum CodingKeys: String, CodingKey {
            case architecture, normalization, testTimeAugmentation
            /// Layout 1 (until issue 14) stored the views as two flags.
            case testTimeFlip, testTimeTranslate
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            architecture = try container.decode(Architecture.self, forKey: .architecture)
            normalization = try container.decode(Normalization.self, forKey: .normalization)
            if let views = try container.decodeIfPresent(TestTimeAugmentation.self, forKey: .testTimeAugmentation) {
                testTimeAugmentation = views
            } else {
                let flip = try container.decodeIfPresent(Bool.self, forKey: .testTimeFlip) ?? false
                let translate = try container.decodeIfPresent(Bool.self, forKey: .testTimeTranslate) ?? false
                testTimeAugmentation = !flip ? .none : translate ? .flipAndTranslate : .flip
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(architecture, forKey: .architecture)
            try container.encode(normalization, forKey: .normalization)
            try container.encode(testTimeAugmentation, forKey: .testTimeAugmentation)
        }
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
                            testTimeAugmentation: testTimeAugmentation)
        self.classNames = classNames
        self.inputShape = inputShape
        self.tensors = tensors
        _ = try makeNetwork()  // refuses arrays that do not fit the architecture
    }

    /// The views averaged at prediction.
    public var testTimeAugmentation: TestTimeAugmentation {
        get { settings.testTimeAugmentation }
        set { settings.testTimeAugmentation = newValue }
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
