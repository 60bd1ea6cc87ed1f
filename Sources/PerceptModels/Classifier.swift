import PerceptCore
import PerceptData

/// The verbs every Percept model shares, whatever its family: fit on a dataset, score,
/// predict, top-k. The CLI calls exactly these, as a Swift user would.
public protocol Classifier: Sendable {
    /// The class names, in label order, the model was fitted with.
    var classNames: [String] { get }
    /// Scores for each item and class: N×C, higher means more likely.
    func scores(for dataset: Dataset) throws -> Tensor
}

extension Classifier {
    /// The most likely class of each item.
    public func predict(_ dataset: Dataset) throws -> [Int32] {
        try topK(dataset, k: 1).map { Int32($0[0]) }
    }

    /// The `k` most likely classes of each item, best first; ties go to the lower class index.
    public func topK(_ dataset: Dataset, k: Int) throws -> [[Int]] {
        guard k >= 1 else { throw PerceptError.invalidArgument("top-k needs k ≥ 1, got \(k)") }
        let scores = try scores(for: dataset)
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
}
