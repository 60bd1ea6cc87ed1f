import Foundation

/// Limited-memory BFGS (Nocedal & Wright, *Numerical Optimization*, algorithm 7.4/7.5): a
/// full-batch minimiser that builds a quasi-Newton step from the last `memory` steps and
/// gradient changes, with a backtracking (Armijo) line search. What scikit-learn's
/// LogisticRegression uses by default; on a few thousand frozen feature vectors one full pass
/// per iteration is cheap, and it needs no learning rate.
struct LBFGS {
    var memory = 10
    /// Iterations at most (each is one or a few passes over the data).
    var iterations = 200
    /// Stop when the largest gradient component falls below this.
    var gradientTolerance = 1e-5
    /// Stop when the loss improves by less than this, relatively.
    var lossTolerance = 1e-9

    struct Result {
        var point: [Float]
        var loss: Double
        var iterations: Int
    }

    /// Minimises `objective` (loss and gradient at a point) from `start`.
    func minimize(from start: [Float], _ objective: ([Float]) throws -> (loss: Double, gradient: [Float])) rethrows -> Result {
        var x = start
        var (loss, gradient) = try objective(x)
        var steps: [[Float]] = [], changes: [[Float]] = [], curvatures: [Double] = []
        var iteration = 0
        while iteration < iterations, (gradient.map { abs($0) }.max() ?? 0) > Float(gradientTolerance) {
            iteration += 1
            // Two-loop recursion: direction = −H·g with H the L-BFGS inverse-Hessian estimate.
            var q = gradient.map(Double.init)
            var alphas = [Double](repeating: 0, count: steps.count)
            for i in stride(from: steps.count - 1, through: 0, by: -1) {
                alphas[i] = curvatures[i] * dot(steps[i], q)
                for j in q.indices { q[j] -= alphas[i] * Double(changes[i][j]) }
            }
            if let s = steps.last, let y = changes.last {
                let gamma = dot(s, y.map(Double.init)) / max(dot(y, y.map(Double.init)), 1e-300)
                for j in q.indices { q[j] *= gamma }
            } else {
                // First step: a unit-length move along the gradient.
                let norm = max(dot(gradient, gradient.map(Double.init)).squareRoot(), 1e-12)
                for j in q.indices { q[j] /= norm }
            }
            for i in steps.indices {
                let beta = curvatures[i] * dot(changes[i], q)
                for j in q.indices { q[j] += Double(steps[i][j]) * (alphas[i] - beta) }
            }
            var direction = q.map { Float(-$0) }
            var slope = dot(gradient, direction.map(Double.init))
            if slope >= 0 {  // not a descent direction (rounding): restart from steepest descent
                steps.removeAll(); changes.removeAll(); curvatures.removeAll()
                direction = gradient.map { -$0 }
                slope = -dot(gradient, gradient.map(Double.init))
            }
            // Backtracking until the Armijo condition f(x + t·d) ≤ f(x) + 1e-4·t·slope holds.
            var stepLength: Float = 1, accepted: (point: [Float], loss: Double, gradient: [Float])?
            for _ in 0..<30 {
                let candidate = zip(x, direction).map { $0 + stepLength * $1 }
                let (candidateLoss, candidateGradient) = try objective(candidate)
                if candidateLoss.isFinite, candidateLoss <= loss + 1e-4 * Double(stepLength) * slope {
                    accepted = (candidate, candidateLoss, candidateGradient)
                    break
                }
                stepLength *= 0.5
            }
            guard let accepted else { break }
            let step = zip(accepted.point, x).map { $0 - $1 }
            let change = zip(accepted.gradient, gradient).map { $0 - $1 }
            let curvature = dot(change, step.map(Double.init))
            let improvement = loss - accepted.loss
            (x, loss, gradient) = (accepted.point, accepted.loss, accepted.gradient)
            if curvature > 1e-10 {  // keep only pairs that keep the estimate positive definite
                steps.append(step); changes.append(change); curvatures.append(1 / curvature)
                if steps.count > memory { steps.removeFirst(); changes.removeFirst(); curvatures.removeFirst() }
            }
            if improvement <= lossTolerance * max(abs(loss), 1) { break }
        }
        return Result(point: x, loss: loss, iterations: iteration)
    }

    private func dot(_ a: [Float], _ b: [Double]) -> Double {
        var sum = 0.0
        for i in a.indices { sum += Double(a[i]) * b[i] }
        return sum
    }
}
