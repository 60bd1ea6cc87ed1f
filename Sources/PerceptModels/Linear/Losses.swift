import Foundation
import PerceptCore

// The lecture's loss functions, each with its gradient beside it.
//
// Shape letters: N items, C classes. `scores` is N×C (row i holds f(xᵢ, W)), `labels` holds
// N class indices yᵢ. Data losses are averaged over the N items; sums are taken in Double so
// a numeric gradient check can see differences of 1e-6.

/// A loss value and its gradient with respect to the input it was computed from.
public struct LossAndGradient: Sendable {
    public var loss: Double
    /// ∂loss/∂input, the input's shape.
    public var gradient: Tensor

    public init(loss: Double, gradient: Tensor) {
        self.loss = loss
        self.gradient = gradient
    }
}

/// The multiclass SVM (hinge) loss: Lᵢ = Σ_{j≠yᵢ} max(0, sⱼ − s_yᵢ + Δ), averaged over items.
///
/// Every class whose score comes within the margin Δ of the correct class's score adds its
/// shortfall. Gradient: +1/N on each such class, −(their count)/N on the correct class.
/// A zero model (all scores equal) has loss (C − 1)·Δ.
public func multiclassHingeLoss<Labels: RandomAccessCollection<Int32>>(
    scores: Tensor, labels: Labels, margin: Float = 1
) -> LossAndGradient {
    let n = scores.rows, c = scores.columns
    precondition(labels.count == n, "hinge loss: \(n) score rows but \(labels.count) labels")
    var gradient = [Float](repeating: 0, count: n * c)
    var total = 0.0
    let scale = 1 / Float(max(1, n))
    for (row, label) in zip(0..<n, labels) {
        let base = row * c, y = Int(label)
        let correct = Double(scores.scalars[base + y])
        var violators = 0
        for j in 0..<c where j != y {
            let shortfall = Double(scores.scalars[base + j]) - correct + Double(margin)
            if shortfall > 0 {
                total += shortfall
                gradient[base + j] = scale
                violators += 1
            }
        }
        gradient[base + y] = -Float(violators) * scale
    }
    return LossAndGradient(loss: total / Double(max(1, n)), gradient: Tensor(shape: [n, c], scalars: gradient))
}

/// The softmax (cross-entropy) loss: Lᵢ = −log(e^{s_yᵢ} / Σⱼ e^{sⱼ}), averaged over items.
///
/// Scores are read as unnormalised log-probabilities. Gradient: (pᵢⱼ − [j = yᵢ]) / N with p
/// the softmax of the row. The row maximum is subtracted first so exp never overflows.
/// A zero model (all scores equal) has loss ln C.
public func softmaxCrossEntropyLoss<Labels: RandomAccessCollection<Int32>>(
    scores: Tensor, labels: Labels
) -> LossAndGradient {
    let n = scores.rows, c = scores.columns
    precondition(labels.count == n, "softmax loss: \(n) score rows but \(labels.count) labels")
    var gradient = [Float](repeating: 0, count: n * c)
    var total = 0.0
    let scale = 1 / Double(max(1, n))
    var exps = [Double](repeating: 0, count: c)
    for (row, label) in zip(0..<n, labels) {
        let base = row * c, y = Int(label)
        var maximum = -Double.infinity
        for j in 0..<c { maximum = max(maximum, Double(scores.scalars[base + j])) }
        var sum = 0.0
        for j in 0..<c {
            exps[j] = exp(Double(scores.scalars[base + j]) - maximum)
            sum += exps[j]
        }
        total += log(sum) - (Double(scores.scalars[base + y]) - maximum)
        for j in 0..<c { gradient[base + j] = Float((exps[j] / sum - (j == y ? 1 : 0)) * scale) }
    }
    return LossAndGradient(loss: total * scale, gradient: Tensor(shape: [n, c], scalars: gradient))
}

/// L2 regularisation R(W) = λ·Σ W², with gradient 2λW. Biases are not regularised.
public func l2Regularization(_ weights: Tensor, strength: Float) -> LossAndGradient {
    var sum = 0.0
    for w in weights.scalars { sum += Double(w) * Double(w) }
    let factor = 2 * strength
    return LossAndGradient(loss: Double(strength) * sum,
                           gradient: Tensor(shape: weights.shape, scalars: weights.scalars.map { factor * $0 }))
}

/// The two data losses of the linear classifier.
public enum ClassificationLoss: String, Sendable, Codable, CaseIterable {
    /// The multiclass SVM loss with margin Δ = 1.
    case hinge
    /// Softmax cross-entropy.
    case softmax

    /// The loss of `scores` against `labels`, and ∂loss/∂scores.
    public func evaluate<Labels: RandomAccessCollection<Int32>>(scores: Tensor, labels: Labels) -> LossAndGradient {
        switch self {
        case .hinge: multiclassHingeLoss(scores: scores, labels: labels)
        case .softmax: softmaxCrossEntropyLoss(scores: scores, labels: labels)
        }
    }
}
