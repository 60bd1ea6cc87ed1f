import PerceptCore
import PerceptData

/// k-nearest-neighbour classification: label an image by a majority vote of the k training
/// images nearest to it in pixel space.
///
/// Usage: `var model = KNearestNeighbors(k: 5, metric: .l1); try model.fit(train)`, then
/// `scores`, `predict` or `topK`. "Fitting" only stores the training images; all the work is
/// an exact brute-force search over the pixel bytes (`ByteIndex`) at prediction time.
///
/// - Features are raw pixel values 0…255 (L1 sums are exact integers; L2 candidates are
///   re-ranked by exact integer squared distances); `neighbors(of:)` reports distances in those units.
/// - Scores are vote fractions (votes / k). Equal vote counts are broken in favour of the class
///   whose first neighbour is nearest (so k-NN never does worse on a tie than 1-NN), and
///   equally distant training images in favour of the lower training index. `predict` and
///   `topK` follow that order; ranking the score matrix alone would not.
public struct KNearestNeighbors: Classifier {
    public typealias Metric = DistanceMetric

    public let k: Int
    public let metric: Metric
    /// Workers for the search (`nil`: every core). Results do not depend on it.
    public var threads: Int?
    public private(set) var classNames: [String] = []
    private var index: ByteIndex?
    private var trainingLabels: [Int32] = []
    private var imageShape: [Int] = []

    public init(k: Int = 1, metric: Metric = .l2, threads: Int? = nil) {
        self.k = k
        self.metric = metric
        self.threads = threads
    }

    /// Stores the training images.
    ///
    /// - Throws: `.invalidArgument` if k < 1 or k exceeds the training set; `.invalidData` if it is empty.
    public mutating func fit(_ dataset: Dataset) throws {
        guard k >= 1 else { throw PerceptError.invalidArgument("k-NN needs k ≥ 1, got \(k)") }
        guard !dataset.isEmpty else { throw PerceptError.invalidData("cannot fit k-NN on an empty dataset") }
        guard k <= dataset.count else {
            throw PerceptError.invalidArgument("k = \(k) exceeds the \(dataset.count) training images; use k ≤ \(dataset.count)")
        }
        index = try ByteIndex(dataset: dataset, metric: metric)
        trainingLabels = dataset.labels
        classNames = dataset.classNames
        imageShape = [dataset.height, dataset.width, dataset.channels]
    }

    /// The k nearest training images of each image, nearest first (indices into the training set).
    public func neighbors(of dataset: Dataset) throws -> NeighborList {
        guard let index else { throw PerceptError.invalidArgument("fit KNearestNeighbors before predicting") }
        guard [dataset.height, dataset.width, dataset.channels] == imageShape else {
            throw PerceptError.invalidData(
                "images are \(dataset.width)x\(dataset.height)x\(dataset.channels) but the model was fitted on "
                + "\(imageShape[1])x\(imageShape[0])x\(imageShape[2])")
        }
        return try index.search(dataset, k: k, threads: threads)
    }

    /// N×C vote fractions: the share of each image's k neighbours in each class.
    public func scores(for dataset: Dataset) throws -> Tensor {
        let neighbors = try neighbors(of: dataset)
        let c = classNames.count
        var scores = Tensor(zeros: [neighbors.queryCount, c])
        for query in 0..<neighbors.queryCount {
            for neighbor in neighbors.neighbors(of: query) {
                scores.scalars[query * c + Int(trainingLabels[Int(neighbor)])] += 1
            }
        }
        // Count first, divide once: 2/3 comes out as the nearest Float, not as 1/3 + 1/3.
        for i in scores.scalars.indices { scores.scalars[i] /= Float(k) }
        return scores
    }

    /// Classes by votes, then by how near their nearest neighbour is, then by class index.
    public func topK(_ dataset: Dataset, k count: Int) throws -> [[Int]] {
        guard count >= 1 else { throw PerceptError.invalidArgument("top-k needs k ≥ 1, got \(count)") }
        let neighbors = try neighbors(of: dataset)
        return (0..<neighbors.queryCount).map { query in
            Array(rankByVotes(neighbors.neighbors(of: query).map { trainingLabels[Int($0)] }).prefix(count))
        }
    }

    /// Every class ranked for one query, given its neighbours' labels nearest first.
    func rankByVotes(_ neighborLabels: [Int32]) -> [Int] {
        let c = classNames.count
        var votes = [Int](repeating: 0, count: c)
        var firstRank = [Int](repeating: Int.max, count: c)
        for (rank, label) in neighborLabels.enumerated() {
            votes[Int(label)] += 1
            firstRank[Int(label)] = min(firstRank[Int(label)], rank)
        }
        return (0..<c).sorted {
            if votes[$0] != votes[$1] { return votes[$0] > votes[$1] }
            if firstRank[$0] != firstRank[$1] { return firstRank[$0] < firstRank[$1] }
            return $0 < $1
        }
    }
}
