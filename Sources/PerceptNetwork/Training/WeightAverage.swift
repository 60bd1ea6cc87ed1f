import Foundation

/// The exponential moving average of the trainable weights (`TrainingOptions.emaDecay`).
struct WeightAverage {
    let decay: Float
    var values: [[Float]]

    init?(decay: Float?, parameters: [Parameter]) {
        guard let decay else { return nil }
        self.decay = decay
        values = parameters.map(\.value)
    }

    /// w̄ ← d·w̄ + (1 − d)·w
    mutating func update(_ parameters: [Parameter]) {
        for (k, p) in parameters.enumerated() {
            OptimizerKernels.exponentialAverage(&values[k], of: p.value, decay: decay)
        }
    }

    /// Exchanges the average and the live weights (twice restores them).
    mutating func swap(_ parameters: [Parameter]) {
        for (k, p) in parameters.enumerated() { Swift.swap(&values[k], &p.value) }
    }
}

/// airbench's lookahead (after Zhang et al. 2019): a slow average of every weight and statistic
/// that the network is reset to every `period` steps; it trails further behind late in the run
/// (α = 0.95⁵·(t/T)³), which averages away the noise of the final high-rate steps.
struct Lookahead {
    static let period = 5
    var values: [[Float]]

    init(_ arrays: [Parameter]) { values = arrays.map(\.value) }

    /// w̄ ← w̄ + (1 − α)(w − w̄), then w ← w̄.
    mutating func update(_ arrays: [Parameter], step: Int, totalSteps: Int) {
        let progress = Double(step) / Double(max(1, totalSteps))
        let keep = Float(pow(0.95, 5) * progress * progress * progress)
        for (k, p) in arrays.enumerated() {
            OptimizerKernels.lookaheadStep(average: &values[k], weights: &p.value, keep: keep)
        }
    }

    /// The run ends on the average (steps since the last update are dropped, as in airbench).
    func finish(_ arrays: [Parameter]) {
        for (k, p) in arrays.enumerated() { p.value = values[k] }
    }
}
