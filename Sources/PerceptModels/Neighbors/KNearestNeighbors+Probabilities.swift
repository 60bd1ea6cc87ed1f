import PerceptCore
import PerceptData

// k-NN's vote fractions already are probabilities (they sum to 1 over the classes); a softmax
// on top of them would flatten 0.8 vs 0.2 into 0.65 vs 0.35.
extension KNearestNeighbors: ProbabilisticClassifier {
    public func probabilities(for dataset: Dataset) throws -> Tensor {
        try scores(for: dataset)
    }
}
