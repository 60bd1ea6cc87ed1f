import PerceptCore

/// Softmax cross-entropy with label smoothing (Szegedy et al. 2016), averaged over the batch.
///
/// With smoothing ε and C classes the target puts 1 − ε + ε/C on the true class and ε/C on each
/// other; loss = −Σ_c target_c · log softmax(z)_c, and ∂loss/∂z = (softmax(z) − target) / N.
public enum CrossEntropy {
    public struct Result: Sendable, Equatable {
        /// The mean loss over the batch.
        public var loss: Double
        /// How many items had their true class ranked first.
        public var correct: Int
    }

    /// Writes ∂loss/∂logits into `dLogits` (N×C) and returns the mean loss.
    public static func softmaxCrossEntropy(logits: UnsafePointer<Float>, labels: [Int32], classes c: Int,
                                           smoothing: Float = 0, dLogits: UnsafeMutablePointer<Float>?) -> Result {
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
        return Result(loss: n > 0 ? total / Double(n) : 0, correct: correct)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Row-wise softmax.
enum Softmax {
    /// result[offset + i·C + j] += weight · softmax(logits row i)_j
    static func accumulate(_ logits: UnsafePointer<Float>, rows: Int, classes c: Int, weight: Float,
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
}
