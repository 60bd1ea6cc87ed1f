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
