// The plain twins of BatchNormKernels: the textbook formulas on arrays (R×C, row-major), sums in
// Double, one loop per formula. The test oracle for the fast kernels (PerceptNetworkTests,
// KernelTwinTests), not used in training.

extension BatchNormKernels {
    /// Per-channel mean and biased variance of R×C values.
    public static func referenceStatistics(x: [Float], rows: Int, channels c: Int) -> (mean: [Float], variance: [Float]) {
        var mean = [Float](repeating: 0, count: c), variance = [Float](repeating: 0, count: c)
        for j in 0..<c {
            var sum = 0.0
            for r in 0..<rows { sum += Double(x[r * c + j]) }
            let m = sum / Double(rows)
            var squares = 0.0
            for r in 0..<rows { squares += (Double(x[r * c + j]) - m) * (Double(x[r * c + j]) - m) }
            mean[j] = Float(m)
            variance[j] = Float(squares / Double(rows))
        }
        return (mean, variance)
    }

    /// y = γ·(x − μ)/√(σ² + ε) + β per channel (inference: the running μ, σ²).
    public static func referenceNormalize(x: [Float], rows: Int, channels c: Int, mean: [Float], variance: [Float],
                                          epsilon: Float, gamma: [Float], beta: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: rows * c)
        for r in 0..<rows {
            for j in 0..<c {
                let xHat = (Double(x[r * c + j]) - Double(mean[j])) / (Double(variance[j]) + Double(epsilon)).squareRoot()
                y[r * c + j] = Float(Double(gamma[j]) * xHat + Double(beta[j]))
            }
        }
        return y
    }

    /// Training forward: the batch's own statistics, then `referenceNormalize`.
    public static func referenceForwardTraining(x: [Float], rows: Int, channels c: Int, epsilon: Float, gamma: [Float],
                                                beta: [Float]) -> (y: [Float], mean: [Float], variance: [Float]) {
        let (mean, variance) = referenceStatistics(x: x, rows: rows, channels: c)
        let y = referenceNormalize(x: x, rows: rows, channels: c, mean: mean, variance: variance, epsilon: epsilon,
                                   gamma: gamma, beta: beta)
        return (y, mean, variance)
    }

    /// Backward of the training forward (Ioffe & Szegedy 2015, §3), from x and dy alone:
    /// dβ = Σ dy, dγ = Σ dy·x̂, dx = γ/(R·√(σ² + ε)) · (R·dy − dβ − x̂·dγ).
    public static func referenceBackward(dy: [Float], x: [Float], rows: Int, channels c: Int, epsilon: Float,
                                         gamma: [Float]) -> (dx: [Float], dGamma: [Float], dBeta: [Float]) {
        let (mean, variance) = referenceStatistics(x: x, rows: rows, channels: c)
        var dx = [Float](repeating: 0, count: rows * c)
        var dGamma = [Float](repeating: 0, count: c), dBeta = [Float](repeating: 0, count: c)
        for j in 0..<c {
            let inverseStd = 1 / (Double(variance[j]) + Double(epsilon)).squareRoot()
            let xHat = (0..<rows).map { (Double(x[$0 * c + j]) - Double(mean[j])) * inverseStd }
            var sumDy = 0.0, sumDyXHat = 0.0
            for r in 0..<rows {
                sumDy += Double(dy[r * c + j])
                sumDyXHat += Double(dy[r * c + j]) * xHat[r]
            }
            dBeta[j] = Float(sumDy)
            dGamma[j] = Float(sumDyXHat)
            let n = Double(rows)
            for r in 0..<rows {
                dx[r * c + j] = Float(Double(gamma[j]) * inverseStd / n * (n * Double(dy[r * c + j]) - sumDy - xHat[r] * sumDyXHat))
            }
        }
        return (dx, dGamma, dBeta)
    }
}
