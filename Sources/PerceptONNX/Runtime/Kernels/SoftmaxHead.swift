import Foundation
import PerceptCore

/// A softmax classifier on feature vectors, trained with the backbone's last blocks during
/// fine-tuning: logits = F·W + b, W D×K, mean cross-entropy over the batch.
struct SoftmaxHead {
    var weights: [Float]
    var bias: [Float]
    let inputs: Int, classes: Int
    private(set) var weightGradient: [Float] = []
    private(set) var biasGradient: [Float] = []
    private var weightVelocity: [Float] = [], biasVelocity: [Float] = []

    init(weights: [Float], bias: [Float]) {
        precondition(!bias.isEmpty && weights.count % bias.count == 0, "SoftmaxHead: weights are not D×K")
        self.weights = weights
        self.bias = bias
        classes = bias.count
        inputs = weights.count / bias.count
    }

    func logits(_ features: [Float], batch: Int) -> [Float] {
        var out = [Float](repeating: 0, count: batch * classes)
        for n in 0..<batch { for k in 0..<classes { out[n * classes + k] = bias[k] } }
        features.withUnsafeBufferPointer { f in
            weights.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { o in
                    BLAS.gemm(m: batch, n: classes, k: inputs, a: f.baseAddress!, b: w.baseAddress!, beta: 1, c: o.baseAddress!)
                }
            }
        }
        return out
    }

    /// Softmax probabilities of each row of `logits` (rows of K).
    static func probabilities(_ logits: [Float], classes: Int) -> [Float] {
        var p = logits
        for start in stride(from: 0, to: p.count, by: classes) {
            let peak = p[start..<(start + classes)].max() ?? 0
            var total: Float = 0
            for j in start..<(start + classes) { p[j] = exp(p[j] - peak); total += p[j] }
            for j in start..<(start + classes) { p[j] /= total }
        }
        return p
    }

    /// Loss and correct count of the batch; sets the gradients and returns ∂loss/∂features. The loss
    /// is the mean over `meanOver` items (default `batch`): a rank holding part of a batch passes the
    /// whole batch's size, so the ranks' gradients add up to the batch's.
    mutating func backward(_ features: [Float], labels: [Int], batch: Int,
                           meanOver: Int? = nil) -> (loss: Double, correct: Int, dFeatures: [Float]) {
        var dLogits = SoftmaxHead.probabilities(logits(features, batch: batch), classes: classes)
        var loss = 0.0, correct = 0
        for n in 0..<batch {
            let row = n * classes
            let top = (0..<classes).max { dLogits[row + $0] < dLogits[row + $1] } ?? 0
            if top == labels[n] { correct += 1 }
            loss -= log(Double(max(dLogits[row + labels[n]], 1e-30)))
            dLogits[row + labels[n]] -= 1
        }
        let divisor = max(1, meanOver ?? batch)
        let scale = 1 / Float(divisor)
        for i in dLogits.indices { dLogits[i] *= scale }
        weightGradient = [Float](repeating: 0, count: weights.count)
        biasGradient = [Float](repeating: 0, count: classes)
        for n in 0..<batch { for k in 0..<classes { biasGradient[k] += dLogits[n * classes + k] } }
        var dFeatures = [Float](repeating: 0, count: batch * inputs)
        features.withUnsafeBufferPointer { f in
            dLogits.withUnsafeBufferPointer { d in
                weightGradient.withUnsafeMutableBufferPointer { dw in
                    BLAS.gemm(transposeA: true, m: inputs, n: classes, k: batch, a: f.baseAddress!, b: d.baseAddress!, c: dw.baseAddress!)
                }
                weights.withUnsafeBufferPointer { w in
                    dFeatures.withUnsafeMutableBufferPointer { df in
                        BLAS.gemm(transposeB: true, m: batch, n: inputs, k: classes, a: d.baseAddress!, b: w.baseAddress!,
                                  c: df.baseAddress!)
                    }
                }
            }
        }
        return (loss / Double(divisor), correct, dFeatures)
    }

    /// The gradients in one vector (weights, then bias; zeros before any backward pass): what ranks add up.
    var gradientVector: [Float] {
        (weightGradient.count == weights.count ? weightGradient : [Float](repeating: 0, count: weights.count))
            + (biasGradient.count == bias.count ? biasGradient : [Float](repeating: 0, count: bias.count))
    }

    /// Sets the gradients from a vector laid out as `gradientVector`.
    mutating func setGradients(_ vector: ArraySlice<Float>) {
        let start = vector.startIndex
        weightGradient = Array(vector[start..<(start + weights.count)])
        biasGradient = Array(vector[(start + weights.count)..<(start + weights.count + bias.count)])
    }

    var gradientSquaredNorm: Double {
        (weightGradient + biasGradient).reduce(0) { $0 + Double($1) * Double($1) }
    }

    mutating func scaleGradients(by factor: Float) {
        weightGradient = weightGradient.map { $0 * factor }
        biasGradient = biasGradient.map { $0 * factor }
    }

    /// SGD with Nesterov momentum; weight decay on the weights only.
    mutating func update(learningRate: Float, momentum: Float, weightDecay: Float) {
        if weightVelocity.count != weights.count { weightVelocity = [Float](repeating: 0, count: weights.count) }
        if biasVelocity.count != bias.count { biasVelocity = [Float](repeating: 0, count: bias.count) }
        for i in weights.indices {
            let g = weightGradient[i] + weightDecay * weights[i]
            weightVelocity[i] = momentum * weightVelocity[i] + g
            weights[i] -= learningRate * (g + momentum * weightVelocity[i])
        }
        for i in bias.indices {
            biasVelocity[i] = momentum * biasVelocity[i] + biasGradient[i]
            bias[i] -= learningRate * (biasGradient[i] + momentum * biasVelocity[i])
        }
    }
}
