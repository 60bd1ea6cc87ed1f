import PerceptCore
import PerceptData
import PerceptModelKit
import PerceptPreprocessing

/// k-nearest-neighbour classification: label an image by a vote of the k training images
/// nearest to it.
///
/// Usage: `var model = KNearestNeighbors(k: 5, metric: .l1); try model.fit(train)`, then
/// `scores`, `predict` or `topK`. "Fitting" only stores the training images; all the work is
/// an exact brute-force search at prediction time.
///
/// - L1 and L2 search the pixel bytes themselves (`ByteIndex`): L1 sums are exact integers, L2
///   distances exact integer squared distances. Cosine searches unit-length Float copies
///   (`FlatIndex`, one GEMM a tile). `fit(features:labels:classNames:)` takes any Float features
///   (HOG, colour histograms) instead, searched by `FlatIndex` in every metric.
/// - Scores are vote fractions: votes / k (`.uniform`), or each neighbour weighted by
///   1 / distance (`.distance`; neighbours at distance 0, if any, take the whole vote).
/// - Equal votes are broken in favour of the class whose first neighbour is nearest (so k-NN
///   never does worse on a tie than 1-NN), equally distant training images in favour of the
///   lower training index. `predict` and `topK` follow that order; ranking the score matrix
///   alone would not.
public struct KNearestNeighbors: Classifier {
    public typealias Metric = DistanceMetric

    /// How each of the k neighbours counts in the vote.
    public enum Weighting: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
        /// One vote each: the lecture's majority vote.
        case uniform
        /// A vote of 1 / distance: near neighbours count more.
        case distance

        public var description: String { rawValue }

        /// "uniform" or "distance", any case. Throws `.invalidArgument` naming both.
        public init(parsing name: String) throws {
            guard let value = Weighting(rawValue: name.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw PerceptError.invalidArgument("unknown weighting '\(name)'; use uniform or distance")
            }
            self = value
        }
    }

    /// The search behind the model: bytes for L1/L2 on pixels, Floats otherwise.
    enum Engine: Sendable {
        case bytes(ByteIndex)
        case floats(FlatIndex)
    }

    public let k: Int
    public let metric: Metric
    public let weighting: Weighting
    /// Workers for the search (`nil`: every core). Results do not depend on it.
    public var threads: Int?
    public internal(set) var classNames: [String] = []
    var engine: Engine?
    var trainingLabels: [Int32] = []
    /// [H, W, C] when fitted on images, [D] when fitted on features.
    var inputShape: [Int] = []
    /// What `archive()` saves: the training images, or the training features.
    var trainingImages: Dataset?
    var trainingFeatures: Tensor?

    public init(k: Int = 1, metric: Metric = .l2, weighting: Weighting = .uniform, threads: Int? = nil) {
        self.k = k
        self.metric = metric
        self.weighting = weighting
        self.threads = threads
    }

    /// The number of stored training items.
    public var trainingCount: Int { trainingLabels.count }

    /// Stores the training images.
    ///
    /// - Throws: `.invalidArgument` if k < 1 or k exceeds the training set; `.invalidData` if it is empty.
    public mutating func fit(_ dataset: Dataset) throws {
        try checkK(trainingCount: dataset.count)
        switch metric {
        case .l1, .l2: engine = .bytes(try ByteIndex(dataset: dataset, metric: metric))
        case .cosine: engine = .floats(try FlatIndex(vectors: dataset.pixelFeatures(scaling: .raw), metric: .cosine))
        }
        trainingLabels = dataset.labels
        classNames = dataset.classNames
        inputShape = [dataset.height, dataset.width, dataset.channels]
        trainingImages = dataset
        trainingFeatures = nil
    }

    /// Stores N×D Float training features with their labels (indices into `classNames`).
    ///
    /// - Throws: `.invalidData` for NaN or infinite features, labels that do not match the rows
    ///   or the classes, an empty set; `.invalidArgument` for a bad k.
    public mutating func fit(features: Tensor, labels: [Int32], classNames: [String]) throws {
        try checkK(trainingCount: features.rows)
        guard labels.count == features.rows else {
            throw PerceptError.invalidData("\(features.rows) feature rows but \(labels.count) labels")
        }
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= classNames.count }) {
            throw PerceptError.invalidData("label \(bad) is outside the \(classNames.count) classes")
        }
        engine = .floats(try FlatIndex(vectors: features, metric: metric))
        trainingLabels = labels
        self.classNames = classNames
        inputShape = [features.columns]
        trainingImages = nil
        trainingFeatures = features
    }

    private func checkK(trainingCount: Int) throws {
        guard k >= 1 else { throw PerceptError.invalidArgument("k-NN needs k ≥ 1, got \(k)") }
        guard trainingCount > 0 else { throw PerceptError.invalidData("cannot fit k-NN on an empty training set") }
        guard k <= trainingCount else {
            throw PerceptError.invalidArgument("k = \(k) exceeds the \(trainingCount) training items; use k ≤ \(trainingCount)")
        }
    }

    /// The k nearest training images of each image, nearest first (indices into the training set).
    public func neighbors(of dataset: Dataset) throws -> NeighborList {
        try checkImageQueries(dataset)
        guard let engine else { throw PerceptError.invalidArgument("fit KNearestNeighbors before predicting") }
        switch engine {
        case .bytes(let index): return try index.search(dataset, k: k, threads: threads)
        case .floats(let index): return try index.search(dataset.pixelFeatures(scaling: .raw), k: k, threads: threads)
        }
    }

    /// Throws unless the model was fitted on images of `dataset`'s size.
    func checkImageQueries(_ dataset: Dataset) throws {
        guard engine != nil else { throw PerceptError.invalidArgument("fit KNearestNeighbors before predicting") }
        guard trainingImages != nil else {
            throw PerceptError.invalidArgument("this k-NN was fitted on features; search it with neighbors(ofFeatures:)")
        }
        guard [dataset.height, dataset.width, dataset.channels] == inputShape else {
            throw PerceptError.invalidData(
                "images are \(dataset.width)x\(dataset.height)x\(dataset.channels) but the model was fitted on "
                + "\(inputShape[1])x\(inputShape[0])x\(inputShape[2])")
        }
    }

    /// The k nearest training items of each row of N×D `features` (a model fitted on features).
    public func neighbors(ofFeatures features: Tensor) throws -> NeighborList {
        guard let engine else { throw PerceptError.invalidArgument("fit KNearestNeighbors before predicting") }
        guard case .floats(let index) = engine, trainingFeatures != nil else {
            throw PerceptError.invalidArgument("this k-NN was fitted on images; search it with neighbors(of:)")
        }
        return try index.search(features, k: k, threads: threads)
    }

    /// N×C vote fractions: the share of each image's (weighted) votes in each class.
    public func scores(for dataset: Dataset) throws -> Tensor { scores(from: try neighbors(of: dataset)) }

    /// Classes by votes, then by how near their nearest neighbour is, then by class index.
    public func topK(_ dataset: Dataset, k count: Int) throws -> [[Int]] {
        guard count >= 1 else { throw PerceptError.invalidArgument("top-k needs k ≥ 1, got \(count)") }
        return ranking(from: try neighbors(of: dataset), count: count)
    }

    /// The vote fractions for neighbour lists found by this model (or a search over its training set).
    public func scores(from neighbors: NeighborList) -> Tensor {
        let c = classNames.count
        var scores = Tensor(zeros: [neighbors.queryCount, c])
        for query in 0..<neighbors.queryCount {
            let votes = self.votes(neighbors, query: query)
            var total = 0.0
            for vote in votes { total += vote }
            // Count first, divide once: 2/3 comes out as the nearest Float, not as 1/3 + 1/3.
            for label in 0..<c { scores.scalars[query * c + label] = Float(votes[label] / total) }
        }
        return scores
    }

    /// The `count` best classes of each query, in `topK`'s order.
    public func ranking(from neighbors: NeighborList, count: Int) -> [[Int]] {
        (0..<neighbors.queryCount).map { query in
            let votes = self.votes(neighbors, query: query)
            var firstRank = [Int](repeating: Int.max, count: classNames.count)
            for (rank, neighbor) in neighbors.neighbors(of: query).enumerated() {
                let label = Int(trainingLabels[Int(neighbor)])
                firstRank[label] = min(firstRank[label], rank)
            }
            let order = classNames.indices.sorted {
                if votes[$0] != votes[$1] { return votes[$0] > votes[$1] }
                if firstRank[$0] != firstRank[$1] { return firstRank[$0] < firstRank[$1] }
                return $0 < $1
            }
            return Array(order.prefix(count))
        }
    }

    /// Each class's vote for one query: counts (uniform) or sums of 1/distance.
    func votes(_ neighbors: NeighborList, query: Int) -> [Double] {
        var votes = [Double](repeating: 0, count: classNames.count)
        let range = (query * neighbors.k)..<((query + 1) * neighbors.k)
        let exactMatch = weighting == .distance && range.contains { neighbors.distances[$0] == 0 }
        for position in range {
            let label = Int(trainingLabels[Int(neighbors.indices[position])])
            let distance = Double(neighbors.distances[position])
            switch weighting {
            case .uniform: votes[label] += 1
            case .distance: votes[label] += exactMatch ? (distance == 0 ? 1 : 0) : 1 / distance
            }
        }
        return votes
    }
}
