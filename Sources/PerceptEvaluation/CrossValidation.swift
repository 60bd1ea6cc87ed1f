import PerceptCore
import PerceptData
import PerceptModels

/// Choosing hyper-parameters without touching the test split, as the lecture does it: cut the
/// training data into `folds` parts, train on all but one, measure accuracy on the one held
/// out, rotate, and average. The setting with the best mean wins.
///
/// Usage:
/// ```
/// let result = try CrossValidation(folds: 5, seed: 0)
///     .evaluateNearestNeighbors(train, k: [1, 3, 5, 7, 10, 20], metrics: [.l1, .l2])
/// print(result.best.k, result.best.metric, result.best.mean)
/// ```
///
/// k-NN is evaluated cheaply: per fold and metric the neighbour lists are searched once with the
/// largest k, and every smaller k votes on a prefix of those lists (the nearest k of the nearest
/// K are the nearest k). So a grid of eight k costs one search per fold and metric, not eight.
///
/// Split marks are ignored: pass only the items you may tune on (not the test split).
public struct CrossValidation: Sendable {
    /// How the data is cut into training and validation parts.
    public enum Scheme: Sendable, Equatable {
        /// k-fold cross-validation, stratified by class (`Dataset.kFoldIndices`).
        case folds(Int)
        /// One stratified train/validation split holding out this fraction of every class.
        case holdOut(validationFraction: Double)
    }

    public let scheme: Scheme
    public let seed: UInt64
    /// Workers for the neighbour search (`nil`: every core). Results do not depend on it.
    public var threads: Int?

    /// k-fold cross-validation.
    public init(folds: Int, seed: UInt64 = 0, threads: Int? = nil) {
        self.scheme = .folds(folds)
        self.seed = seed
        self.threads = threads
    }

    /// A single split: train on the rest, validate on `validationFraction` of each class.
    public init(validationFraction: Double, seed: UInt64 = 0, threads: Int? = nil) {
        self.scheme = .holdOut(validationFraction: validationFraction)
        self.seed = seed
        self.threads = threads
    }

    /// The training/validation item indices of each round.
    public func rounds(of dataset: Dataset) throws -> [(train: [Int], validation: [Int])] {
        switch scheme {
        case .folds(let folds):
            return try dataset.kFoldIndices(folds: folds, seed: seed)
        case .holdOut(let fraction):
            guard fraction.isFinite, fraction > 0, fraction < 1 else {
                throw PerceptError.invalidArgument(
                    "the validation fraction must lie strictly between 0 and 1, got \(fraction)")
            }
            // Forget the source's split marks so every item is dealt by the fraction.
            var unmarked = dataset
            unmarked.splits = Array(repeating: .unassigned, count: dataset.count)
            let marks = try unmarked.assigningSplits(train: 1 - fraction, validation: fraction, test: 0,
                                                     seed: seed).splits
            let train = marks.indices.filter { marks[$0] == .train }
            let validation = marks.indices.filter { marks[$0] == .validation }
            guard !train.isEmpty, !validation.isEmpty else {
                throw PerceptError.invalidArgument(
                    "a validation fraction of \(fraction) of \(dataset.count) items leaves \(train.count) for "
                    + "training and \(validation.count) for validation; both must be non-empty")
            }
            return [(train, validation)]
        }
    }

    /// Accuracy of k-NN for every (k, metric) in the grid, on every round.
    ///
    /// - Throws: `.invalidArgument` for an empty grid, k < 1, k larger than a round's training
    ///   part, fewer than 2 folds or more folds than the smallest class has items, or a
    ///   validation fraction outside (0, 1).
    public func evaluateNearestNeighbors(_ dataset: Dataset, k ks: [Int],
                                         metrics: [DistanceMetric]) throws -> CrossValidationResult {
        guard !ks.isEmpty, !metrics.isEmpty else {
            throw PerceptError.invalidArgument(
                "the grid is empty (\(ks.count) values of k, \(metrics.count) metrics); give at least one of each")
        }
        if let bad = ks.first(where: { $0 < 1 }) {
            throw PerceptError.invalidArgument("k-NN needs k ≥ 1, got k = \(bad)")
        }
        let rounds = try self.rounds(of: dataset)
        let kValues = Array(Set(ks)).sorted()
        var metricsInOrder: [DistanceMetric] = []
        for metric in metrics where !metricsInOrder.contains(metric) { metricsInOrder.append(metric) }
        let largestK = kValues.last ?? 1
        let smallestTraining = rounds.map(\.train.count).min() ?? 0
        guard largestK <= smallestTraining else {
            throw PerceptError.invalidArgument(
                "k = \(largestK) exceeds the \(smallestTraining) training images of a round; use k ≤ \(smallestTraining)")
        }

        // accuracies[metric][k][round]
        var accuracies = [[[Double]]](repeating: [[Double]](repeating: [], count: kValues.count),
                                      count: metricsInOrder.count)
        for round in rounds {
            let train = dataset.subset(round.train)
            let validation = dataset.subset(round.validation)
            for (m, metric) in metricsInOrder.enumerated() {
                var model = KNearestNeighbors(k: largestK, metric: metric, threads: threads)
                try model.fit(train)
                let neighbors = try model.neighbors(of: validation)
                // Labels of each query's neighbours, nearest first: the input of every vote.
                let neighborLabels = neighbors.indices.map { train.labels[Int($0)] }
                for (position, k) in kValues.enumerated() {
                    var correct = 0
                    for query in 0..<neighbors.queryCount {
                        let list = neighborLabels[(query * largestK)..<((query + 1) * largestK)]
                        if try vote(neighborLabels: list, k: k, classCount: dataset.classCount)
                            == validation.labels[query] { correct += 1 }
                    }
                    accuracies[m][position].append(Double(correct) / Double(max(1, validation.count)))
                }
            }
        }

        var settings: [CrossValidationResult.Setting] = []
        for (m, metric) in metricsInOrder.enumerated() {
            for (position, k) in kValues.enumerated() {
                settings.append(.init(k: k, metric: metric, foldAccuracies: accuracies[m][position]))
            }
        }
        let validationFraction: Double?
        if case .holdOut(let fraction) = scheme { validationFraction = fraction } else { validationFraction = nil }
        return try CrossValidationResult(folds: rounds.count, validationFraction: validationFraction, seed: seed,
                                         itemCount: dataset.count, settings: settings)
    }
}

/// The majority vote of the `k` nearest neighbours, given their labels nearest first.
///
/// Equal vote counts go to the class whose nearest member comes first in the list, the
/// tie-break `KNearestNeighbors.predict` uses (so k-NN never does worse on a tie than 1-NN).
///
/// - Throws: `.invalidArgument` if k < 1, k exceeds the labels given, or a label lies outside
///   `0..<classCount`.
public func vote<Labels: Collection<Int32>>(neighborLabels: Labels, k: Int, classCount: Int) throws -> Int32 {
    guard k >= 1, k <= neighborLabels.count else {
        throw PerceptError.invalidArgument("a vote of k = \(k) needs 1 ≤ k ≤ \(neighborLabels.count) neighbours")
    }
    var votes = [Int](repeating: 0, count: max(0, classCount))
    var firstRank = [Int](repeating: Int.max, count: max(0, classCount))
    for (rank, label) in neighborLabels.prefix(k).enumerated() {
        let c = Int(label)
        guard c >= 0, c < classCount else {
            throw PerceptError.invalidArgument("neighbour label \(label) is outside the \(classCount) classes")
        }
        votes[c] += 1
        firstRank[c] = min(firstRank[c], rank)
    }
    // Not "first to reach the top count": in A B B A the tie is A's, whose first neighbour is nearer.
    var winner = 0
    for c in votes.indices where votes[c] > votes[winner]
        || (votes[c] == votes[winner] && firstRank[c] < firstRank[winner]) {
        winner = c
    }
    return Int32(winner)
}
