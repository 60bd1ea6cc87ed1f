#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Softmax and softmax cross-entropy over N×C logits (CrossEntropy.swift says what they compute),
// and their plain twins on arrays, in Double, written from the definitions.

public enum CrossEntropyKernels {
    /// Mean loss and correct count over the batch; writes ∂loss/∂logits into `dLogits` (N×C) when given.
    public static func softmaxCrossEntropy(logits: UnsafePointer<Float>, labels: [Int32], classes c: Int,
                                           smoothing: Float, dLogits: UnsafeMutablePointer<Float>?) -> CrossEntropy.Result {
        let n = labels.count
        var total = 0.0
        var correct = 0
        let off = smoothing / Float(c), on = 1 - smoothing + off
        for i in 0..<n {
            let z = logits + i * c
            let label = Int(labels[i])
            var best = 0
            var maximum = z[0]
            for j in 1..<c where z[j] > maximum { maximum = z[j]; best = j }
            if best == label { correct += 1 }
            var sum: Float = 0
            for j in 0..<c { sum += exp(z[j] - maximum) }
            let logSum = log(Double(sum)) + Double(maximum)
            var loss = 0.0
            for j in 0..<c {
                let target = j == label ? on : off
                loss -= Double(target) * (Double(z[j]) - logSum)
                if let dLogits {
                    let p = Float(exp(Double(z[j]) - logSum))
                    dLogits[i * c + j] = (p - target) / Float(n)
                }
            }
            total += loss
        }
        return CrossEntropy.Result(loss: n > 0 ? total / Double(n) : 0, correct: correct)
    }

    /// The twin: targets (1 − ε + ε/C on the label, ε/C elsewhere), p = softmax(z) in Double,
    /// loss = −mean Σ target·log p, ∂loss/∂z = (p − target)/N; correct counts rows whose first
    /// largest logit is the label.
    public static func referenceSoftmaxCrossEntropy(logits: [Float], labels: [Int32], classes c: Int,
                                                    smoothing: Float) -> (result: CrossEntropy.Result, dLogits: [Float]) {
        let n = labels.count
        var dLogits = [Float](repeating: 0, count: n * c)
        var total = 0.0, correct = 0
        for i in 0..<n {
            let z = (0..<c).map { Double(logits[i * c + $0]) }
            let label = Int(labels[i])
            if z.firstIndex(of: z.max()!) == label { correct += 1 }
            let p = referenceSoftmax(z)
            for j in 0..<c {
                let target = (j == label ? 1 - Double(smoothing) : 0) + Double(smoothing) / Double(c)
                total -= target * log(p[j])
                dLogits[i * c + j] = Float((p[j] - target) / Double(n))
            }
        }
        return (CrossEntropy.Result(loss: n > 0 ? total / Double(n) : 0, correct: correct), dLogits)
    }

    /// result[offset + i·C + j] += weight · softmax(logits row i)_j
    static func accumulateSoftmax(_ logits: UnsafePointer<Float>, rows: Int, classes c: Int, weight: Float,
                                  into result: inout [Float], offset: Int) {
        for i in 0..<rows {
            let z = logits + i * c
            var maximum = z[0]
            for j in 1..<c { maximum = max(maximum, z[j]) }
            var sum: Float = 0
            for j in 0..<c { sum += exp(z[j] - maximum) }
            for j in 0..<c { result[offset + i * c + j] += weight * exp(z[j] - maximum) / sum }
        }
    }

    /// The twin of `accumulateSoftmax`: the softmax of each row in Double.
    static func referenceAccumulateSoftmax(_ logits: [Float], rows: Int, classes c: Int, weight: Float,
                                           into result: inout [Float], offset: Int) {
        for i in 0..<rows {
            let p = referenceSoftmax((0..<c).map { Double(logits[i * c + $0]) })
            for j in 0..<c { result[offset + i * c + j] += weight * Float(p[j]) }
        }
    }

    /// softmax(z)_j = e^{z_j − max z} / Σ_k e^{z_k − max z}
    static func referenceSoftmax(_ z: [Double]) -> [Double] {
        let largest = z.max() ?? 0
        let e = z.map { exp($0 - largest) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }
}
