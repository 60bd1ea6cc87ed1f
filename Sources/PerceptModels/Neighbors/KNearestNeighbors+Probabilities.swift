import PerceptCore
import PerceptData
import PerceptModelKit

// k-NN's vote fractions already are probabilities (they sum to 1 over the classes); a softmax
// on top of them would flatten 0.8 vs 0.2 into 0.65 vs 0.35.
extension KNearestNeighbors: ProbabilisticClassifier {
    public func probabilities(for dataset: Dataset) throws -> Tensor {
        try scores(for: dataset)
    }

    public func rankingWithProbabilities(_ dataset: Dataset, k count: Int) throws -> (rankings: [[Int]], probabilities: Tensor) {
        guard count >= 1 else { throw PerceptError.invalidArgument("top-k needs k ≥ 1, got \(count)") }
        let neighbors = try neighbors(of: dataset)
        return (ranking(from: neighbors, count: count), scores(from: neighbors))
    }
}

extension KNearestNeighbors {
    /// The stored training images (nil when fitted on feature vectors): what retrieval grids show
    /// beside each query.
    public var trainingSet: Dataset? { trainingImages }

    /// This model fitted on `dataset` (for chained use: `try KNearestNeighbors(k: 10).fitted(on: train)`).
    public func fitted(on dataset: Dataset) throws -> KNearestNeighbors {
        var copy = self
        try copy.fit(dataset)
        return copy
    }
}
