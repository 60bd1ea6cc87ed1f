import Foundation
import PerceptCore
import PerceptDistributed
import PerceptModelKit

/// Per-feature standardisation of frozen features: x' = (x − mean) · scale, scale = 1/std fitted
/// on the training features (a constant feature keeps scale 1). Makes one L2 strength suit every
/// backbone, whatever its features' ranges.
public struct FeatureStandardization: Sendable, Equatable {
    public var mean: [Float]
    public var scale: [Float]

    public init(mean: [Float], scale: [Float]) {
        self.mean = mean
        self.scale = scale
    }

    /// Fitted on N × D `features`.
    public init(fittedOn features: Tensor) {
        let moments = Self.moments(features)
        let d = features.columns
        self.init(sums: Array(moments[0..<d]), squares: Array(moments[d..<(2 * d)]), count: moments[2 * d])
    }

    /// Fitted on the rows of every rank together: each passes its own share of the N × D features,
    /// and one allreduce adds up the sums and squares.
    public init(fittedOn features: Tensor, communicator: Communicator) throws {
        var moments = Self.moments(features)
        try communicator.allreduceSum(&moments)
        let d = features.columns
        self.init(sums: Array(moments[0..<d]), squares: Array(moments[d..<(2 * d)]), count: moments[2 * d])
    }

    /// Each feature's sum, then each one's sum of squares, then the row count: what ranks add up.
    private static func moments(_ features: Tensor) -> [Double] {
        let (n, d) = (features.rows, features.columns)
        var moments = [Double](repeating: 0, count: 2 * d + 1)
        for row in 0..<n {
            for i in 0..<d {
                let value = Double(features.scalars[row * d + i])
                moments[i] += value
                moments[d + i] += value * value
            }
        }
        moments[2 * d] = Double(n)
        return moments
    }

    private init(sums: [Double], squares: [Double], count: Double) {
        let count = max(count, 1)
        mean = sums.map { Float($0 / count) }
        scale = zip(sums, squares).map { sum, square in
            let variance = max(0, square / count - (sum / count) * (sum / count))
            return variance > 1e-12 ? Float(1 / variance.squareRoot()) : 1
        }
    }

    public func apply(_ features: Tensor) -> [Float] {
        let d = mean.count
        var x = features.scalars
        for i in x.indices { x[i] = (x[i] - mean[i % d]) * scale[i % d] }
        return x
    }
}

/// Fits a `ClassifierHead` on standardised features with L-BFGS, choosing the L2 strength on the
/// validation features when none is given: a path from strong to weak regularisation, each fit
/// starting from the previous one (warm start), the best validation accuracy winning (ties: the
/// lower validation loss).
struct HeadTrainer {
    /// The strengths tried, strongest first: half-decades from 1 to 1e-5 on the mean loss — scikit-learn's
    /// C from 1/N to 1e5/N, N ≈ 1,000 (few-shot sets need the strong end, 45,000 images the weak one).
    static let l2Grid: [Float] = [1, 3e-1, 1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5]
    /// Without validation features: about scikit-learn's C = 1 on a thousand images.
    static let defaultL2: Float = 1e-3

    var kind: ClassifierHead.Kind
    var hidden: Int
    var iterations: Int
    var seed: UInt64

    /// One point of the validation curve.
    struct Trial: Codable, Equatable {
        var l2: Float
        var validationAccuracy: Double
        var validationLoss: Double
    }

    struct Result {
        var head: ClassifierHead
        var l2: Float
        var trials: [Trial]
    }

    /// Fits on `x` (rows × `d` standardised features) and `labels`, choosing L2 on `validation`.
    ///
    /// With several ranks (`communicator`), each passes its own share of the training and validation
    /// rows (contiguous, in order): every loss and gradient is its share's sum over the whole set's
    /// count, added up by one allreduce, so every rank takes the same L-BFGS steps and ends with
    /// the single process's head (within rounding).
    func fit(train x: [Float], labels: [Int32], classes: Int, features d: Int,
             validation: (x: [Float], labels: [Int32])?, l2: Float?, communicator: Communicator = SingleProcess(),
             progress: (String) throws -> Void) throws -> Result {
        let trainCount = Int(try communicator.allreduceSum(Double(labels.count)))
        let validationCount = Int(try communicator.allreduceSum(Double(validation?.labels.count ?? 0)))
        let strengths = l2.map { [$0] } ?? (validationCount == 0 ? [Self.defaultL2] : Self.l2Grid)
        var head = ClassifierHead(kind: kind, inputs: d, hidden: hidden, classes: classes, seed: seed)
        var best: (head: ClassifierHead, l2: Float, trial: Trial?)?
        var trials: [Trial] = []
        let optimizer = LBFGS(iterations: iterations)
        for strength in strengths {
            let start = head
            let result = try optimizer.minimize(from: head.parameters) { p in
                var (loss, gradient) = start.lossAndGradient(p, x, labels: labels, l2: 0, meanOver: trainCount)
                if communicator.size > 1 {
                    try communicator.allreduceSum(&gradient)
                    loss = try communicator.allreduceSum(loss)
                }
                start.addRegularization(p, l2: strength, loss: &loss, gradient: &gradient)
                return (loss, gradient)
            }
            guard result.loss.isFinite else {
                throw PerceptError.invalidArgument("the \(kind.rawValue) head diverged at --l2 \(strength); try a larger --l2")
            }
            head.parameters = result.point
            var trial: Trial?
            if let validation, validationCount > 0 {
                let rows = validation.labels.count
                var (loss, _) = head.lossAndGradient(head.parameters, validation.x, labels: validation.labels, l2: 0,
                                                     meanOver: validationCount)
                let predicted = rows == 0 ? [] : rankClasses(byScores: Tensor(shape: [rows, classes],
                                                                             scalars: head.scores(validation.x, rows: rows)), k: 1)
                var correct = Double(zip(predicted, validation.labels).filter { $0.0.first == Int($0.1) }.count)
                if communicator.size > 1 {
                    var sums = [loss, correct]
                    try communicator.allreduceSum(&sums)
                    (loss, correct) = (sums[0], sums[1])
                }
                let measured = Trial(l2: strength, validationAccuracy: correct / Double(validationCount), validationLoss: loss)
                trials.append(measured)
                trial = measured
            }
            try progress(String(format: "%@ head, L2 %.0e: loss %.4f after %d iterations", kind.rawValue, strength,
                                result.loss, result.iterations)
                         + (trial.map { String(format: ", validation %.1f%%", $0.validationAccuracy * 100) } ?? ""))
            if let current = best?.trial, let trial,
               trial.validationAccuracy < current.validationAccuracy
                || (trial.validationAccuracy == current.validationAccuracy && trial.validationLoss >= current.validationLoss) {
                continue
            }
            best = (head, strength, trial)
        }
        guard let best else { throw PerceptError.invalidArgument("no L2 strength to try") }
        return Result(head: best.head, l2: best.l2, trials: trials)
    }
}
