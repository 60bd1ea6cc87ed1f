import Foundation
import PerceptCore
import PerceptData

/// The verbs every Percept model shares, whatever its family: fit on a dataset, score,
/// predict, top-k. The CLI calls exactly these, as a Swift user would.
///
/// A model only has to supply `classNames` and `scores(for:)`. `predict` and `topK` are
/// requirements with default implementations (rank by score, ties to the lower class index)
/// so that a model whose scores tie by design can rank its own way: k-NN breaks equal vote
/// counts by the nearest neighbour.
public protocol Classifier: Sendable {
    /// The class names, in label order, the model was fitted with.
    var classNames: [String] { get }
    /// Scores for each item and class: N×C, higher means more likely.
    func scores(for dataset: Dataset) throws -> Tensor
    /// The most likely class of each item.
    func predict(_ dataset: Dataset) throws -> [Int32]
    /// The `k` most likely classes of each item, best first.
    func topK(_ dataset: Dataset, k: Int) throws -> [[Int]]
}

extension Classifier {
    /// The most likely class of each item: the first of `topK(_:k: 1)`.
    public func predict(_ dataset: Dataset) throws -> [Int32] {
        try topK(dataset, k: 1).map { Int32($0.first ?? 0) }
    }

    /// The `k` most likely classes of each item by score, best first; ties go to the lower class index.
    public func topK(_ dataset: Dataset, k: Int) throws -> [[Int]] {
        guard k >= 1 else { throw PerceptError.invalidArgument("top-k needs k ≥ 1, got \(k)") }
        return rankClasses(byScores: try scores(for: dataset), k: k)
    }
}

/// The `k` highest-scoring columns of each row of an N×C score matrix, best first; equal
/// scores go to the lower class index.
public func rankClasses(byScores scores: Tensor, k: Int) -> [[Int]] {
    let classes = scores.columns
    return (0..<scores.rows).map { row in
        let base = row * classes
        let order = (0..<classes).sorted {
            let a = scores.scalars[base + $0], b = scores.scalars[base + $1]
            return a != b ? a > b : $0 < $1
        }
        return Array(order.prefix(min(k, classes)))
    }
}

/// Class probabilities: what `percept predict` prints beside each label.
public protocol ProbabilisticClassifier: Classifier {
    /// N×C probabilities, each row summing to 1.
    func probabilities(for dataset: Dataset) throws -> Tensor
    /// The `k` best classes of each item and all class probabilities, from one pass over the
    /// data (evaluation needs both; k-NN would otherwise search twice).
    func rankingWithProbabilities(_ dataset: Dataset, k: Int) throws -> (rankings: [[Int]], probabilities: Tensor)
}

extension ProbabilisticClassifier {
    public func rankingWithProbabilities(_ dataset: Dataset, k: Int) throws -> (rankings: [[Int]], probabilities: Tensor) {
        (try topK(dataset, k: k), try probabilities(for: dataset))
    }
}

extension Classifier {
    /// N×C probabilities: the model's own when it has them (`ProbabilisticClassifier`), else
    /// the softmax of its scores — a monotone map, so the ranking is the scores' ranking.
    public func classProbabilities(for dataset: Dataset) throws -> Tensor {
        if let probabilistic = self as? any ProbabilisticClassifier {
            return try probabilistic.probabilities(for: dataset)
        }
        return softmaxRows(try scores(for: dataset))
    }

    /// The `k` best classes of each item and all class probabilities, searching only once
    /// where the model can (`ProbabilisticClassifier`).
    public func classRankingWithProbabilities(_ dataset: Dataset, k: Int) throws -> (rankings: [[Int]], probabilities: Tensor) {
        if let probabilistic = self as? any ProbabilisticClassifier {
            return try probabilistic.rankingWithProbabilities(dataset, k: k)
        }
        guard k >= 1 else { throw PerceptError.invalidArgument("top-k needs k ≥ 1, got \(k)") }
        let scores = try scores(for: dataset)
        return (rankClasses(byScores: scores, k: k), softmaxRows(scores))
    }
}

/// The softmax of each row of an N×C matrix, computed stably (the row maximum subtracted
/// first); rows of −∞ scores get probability 0 there.
public func softmaxRows(_ scores: Tensor) -> Tensor {
    var result = scores
    let c = scores.columns
    guard c > 0 else { return result }
    for row in 0..<scores.rows {
        let base = row * c
        let largest = scores.scalars[base..<(base + c)].max() ?? 0
        guard largest.isFinite else {  // all −∞ (or a NaN): spread evenly rather than divide 0 by 0
            for j in 0..<c { result.scalars[base + j] = 1 / Float(c) }
            continue
        }
        var sum: Float = 0
        for j in 0..<c {
            let value = Foundation.exp(scores.scalars[base + j] - largest)
            result.scalars[base + j] = value
            sum += value
        }
        for j in 0..<c { result.scalars[base + j] /= sum }
    }
    return result
}
