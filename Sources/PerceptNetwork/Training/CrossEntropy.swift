/// Softmax cross-entropy with label smoothing (Szegedy et al. 2016), averaged over the batch.
///
/// With smoothing ε and C classes the target puts 1 − ε + ε/C on the true class and ε/C on each
/// other; loss = −Σ_c target_c · log softmax(z)_c, and ∂loss/∂z = (softmax(z) − target) / N.
/// The loops are `CrossEntropyKernels`.
public enum CrossEntropy {
    public struct Result: Sendable, Equatable {
        /// The mean loss over the batch.
        public var loss: Double
        /// How many items had their true class ranked first.
        public var correct: Int
    }

    /// The mean loss of the N = `labels.count` rows of `logits` (N×C); writes ∂loss/∂logits into `dLogits` when given.
    public static func softmaxCrossEntropy(logits: FloatBuffer, labels: [Int32], classes: Int, smoothing: Float = 0,
                                           dLogits: FloatBuffer?) -> Result {
        precondition(classes >= 1 && labels.count * classes <= logits.capacity, "softmaxCrossEntropy: too few logits")
        precondition(dLogits.map { labels.count * classes <= $0.capacity } ?? true, "softmaxCrossEntropy: dLogits too small")
        return CrossEntropyKernels.softmaxCrossEntropy(logits: logits.pointer, labels: labels, classes: classes,
                                                       smoothing: smoothing, dLogits: dLogits?.pointer)
    }
}

/// Row-wise softmax.
enum Softmax {
    /// result[offset + i·C + j] += weight · softmax(logits row i)_j
    static func accumulate(_ logits: FloatBuffer, rows: Int, classes: Int, weight: Float, into result: inout [Float], offset: Int) {
        precondition(rows * classes <= logits.capacity && offset + rows * classes <= result.count, "Softmax: sizes")
        CrossEntropyKernels.accumulateSoftmax(logits.pointer, rows: rows, classes: classes, weight: weight, into: &result,
                                              offset: offset)
    }
}
