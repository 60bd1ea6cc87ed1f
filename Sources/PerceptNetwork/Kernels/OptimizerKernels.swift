// The update loops of the optimisers and weight averages (Optimizer.swift, WeightAverage.swift say
// what they compute and why), over one parameter array at a time, and their plain twins on arrays
// (same expressions, same order: the tests in KernelTwinTests expect equal results).

public enum OptimizerKernels {
    /// SGD with momentum on one array: g' = g + coupledDecay·w, v ← μ·v + g',
    /// w ← w − learningRate·(Nesterov ? g' + μ·v : v) − learningRate·decoupledDecay·w.
    public static func sgdStep(weights: inout [Float], gradient: [Float], velocity: inout [Float], learningRate: Float,
                               momentum mu: Float, nesterov: Bool, coupledDecay: Float, decoupledDecay: Float) {
        precondition(weights.count == gradient.count && weights.count == velocity.count, "sgdStep: array sizes differ")
        weights.withUnsafeMutableBufferPointer { w in
            gradient.withUnsafeBufferPointer { g in
                velocity.withUnsafeMutableBufferPointer { v in
                    for i in 0..<w.count {
                        let grad = g[i] + coupledDecay * w[i]
                        v[i] = mu * v[i] + grad
                        let update = nesterov ? grad + mu * v[i] : v[i]
                        w[i] -= learningRate * update + learningRate * decoupledDecay * w[i]
                    }
                }
            }
        }
    }

    public static func referenceSGDStep(weights: inout [Float], gradient: [Float], velocity: inout [Float], learningRate: Float,
                                        momentum mu: Float, nesterov: Bool, coupledDecay: Float, decoupledDecay: Float) {
        for i in weights.indices {
            let grad = gradient[i] + coupledDecay * weights[i]
            velocity[i] = mu * velocity[i] + grad
            let update = nesterov ? grad + mu * velocity[i] : velocity[i]
            weights[i] -= learningRate * update + learningRate * decoupledDecay * weights[i]
        }
    }

    /// Adam on one array: g' = g + coupledDecay·w, m ← β₁m + (1−β₁)g', v ← β₂v + (1−β₂)g'²,
    /// w ← w − learningRate·(m/c₁)/(√(v/c₂) + ε) − learningRate·decoupledDecay·w, with the bias corrections c₁, c₂.
    public static func adamStep(weights: inout [Float], gradient: [Float], m: inout [Float], v: inout [Float],
                                learningRate: Float, beta1 b1: Float, beta2 b2: Float, epsilon: Float,
                                correction1: Float, correction2: Float, coupledDecay: Float, decoupledDecay: Float) {
        precondition(weights.count == gradient.count && weights.count == m.count && weights.count == v.count,
                     "adamStep: array sizes differ")
        weights.withUnsafeMutableBufferPointer { w in
            gradient.withUnsafeBufferPointer { g in
                m.withUnsafeMutableBufferPointer { m in
                    v.withUnsafeMutableBufferPointer { v in
                        for i in 0..<w.count {
                            let grad = g[i] + coupledDecay * w[i]
                            m[i] = b1 * m[i] + (1 - b1) * grad
                            v[i] = b2 * v[i] + (1 - b2) * grad * grad
                            let mHat = m[i] / correction1, vHat = v[i] / correction2
                            w[i] -= learningRate * mHat / (vHat.squareRoot() + epsilon) + learningRate * decoupledDecay * w[i]
                        }
                    }
                }
            }
        }
    }

    public static func referenceAdamStep(weights: inout [Float], gradient: [Float], m: inout [Float], v: inout [Float],
                                         learningRate: Float, beta1 b1: Float, beta2 b2: Float, epsilon: Float,
                                         correction1: Float, correction2: Float, coupledDecay: Float, decoupledDecay: Float) {
        for i in weights.indices {
            let grad = gradient[i] + coupledDecay * weights[i]
            m[i] = b1 * m[i] + (1 - b1) * grad
            v[i] = b2 * v[i] + (1 - b2) * grad * grad
            let mHat = m[i] / correction1, vHat = v[i] / correction2
            weights[i] -= learningRate * mHat / (vHat.squareRoot() + epsilon) + learningRate * decoupledDecay * weights[i]
        }
    }

    /// average ← d·average + (1 − d)·weights
    public static func exponentialAverage(_ average: inout [Float], of weights: [Float], decay d: Float) {
        precondition(average.count == weights.count, "exponentialAverage: array sizes differ")
        weights.withUnsafeBufferPointer { w in
            average.withUnsafeMutableBufferPointer { a in
                for i in 0..<a.count { a[i] = d * a[i] + (1 - d) * w[i] }
            }
        }
    }

    public static func referenceExponentialAverage(_ average: inout [Float], of weights: [Float], decay d: Float) {
        for i in average.indices { average[i] = d * average[i] + (1 - d) * weights[i] }
    }

    /// average ← average + (1 − keep)·(weights − average), then weights ← average.
    public static func lookaheadStep(average: inout [Float], weights: inout [Float], keep: Float) {
        precondition(average.count == weights.count, "lookaheadStep: array sizes differ")
        average.withUnsafeMutableBufferPointer { a in
            weights.withUnsafeMutableBufferPointer { w in
                for i in 0..<w.count {
                    a[i] += (1 - keep) * (w[i] - a[i])
                    w[i] = a[i]
                }
            }
        }
    }

    public static func referenceLookaheadStep(average: inout [Float], weights: inout [Float], keep: Float) {
        for i in weights.indices {
            average[i] += (1 - keep) * (weights[i] - average[i])
            weights[i] = average[i]
        }
    }
}
