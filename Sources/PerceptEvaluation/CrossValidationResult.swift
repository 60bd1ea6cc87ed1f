import PerceptCore
import PerceptModels

/// What cross-validation measured: for each k-NN setting, the accuracy of every round
/// (fold) with their mean and standard deviation, and the setting to choose.
public struct CrossValidationResult: Sendable, Codable, Equatable {
    /// One point of the hyper-parameter grid and how it did.
    public struct Setting: Sendable, Codable, Equatable {
        public var k: Int
        public var metric: DistanceMetric
        /// Validation accuracy of each round, in fold order.
        public var foldAccuracies: [Double]
        /// Mean of `foldAccuracies`.
        public var mean: Double
        /// Population standard deviation of `foldAccuracies` (divide by n, as numpy's `std`
        /// does in the lecture's plot): it describes these folds, not an estimate beyond them.
        public var standardDeviation: Double

        public init(k: Int, metric: DistanceMetric, foldAccuracies: [Double]) {
            self.k = k
            self.metric = metric
            self.foldAccuracies = foldAccuracies
            let n = Double(max(1, foldAccuracies.count))
            let mean = foldAccuracies.reduce(0, +) / n
            self.mean = mean
            self.standardDeviation = (foldAccuracies.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n).squareRoot()
        }
    }

    /// Rounds evaluated: the number of folds, or 1 for a single validation split.
    public var folds: Int
    /// The held-out fraction of a single split; nil for k-fold.
    public var validationFraction: Double?
    public var seed: UInt64
    /// Items tuned on (training plus validation parts of every round).
    public var itemCount: Int
    /// Every setting, grouped by metric, k ascending.
    public var settings: [Setting]
    /// The setting with the highest mean accuracy (see `best(of:)`).
    public var best: Setting

    /// - Throws: `.invalidArgument` when `settings` is empty.
    public init(folds: Int, validationFraction: Double?, seed: UInt64, itemCount: Int, settings: [Setting]) throws {
        guard let best = Self.best(of: settings) else {
            throw PerceptError.invalidArgument("no settings were evaluated; give at least one k and one metric")
        }
        self.folds = folds
        self.validationFraction = validationFraction
        self.seed = seed
        self.itemCount = itemCount
        self.settings = settings
        self.best = best
    }

    /// The highest mean accuracy; on equal means the smaller k (the simpler, smoother model),
    /// then the metric listed first in `DistanceMetric.allCases` (L1 before L2). Nil for no settings.
    public static func best(of settings: [Setting]) -> Setting? {
        func metricOrder(_ metric: DistanceMetric) -> Int { DistanceMetric.allCases.firstIndex(of: metric) ?? Int.max }
        return settings.min { a, b in
            if a.mean != b.mean { return a.mean > b.mean }
            if a.k != b.k { return a.k < b.k }
            return metricOrder(a.metric) < metricOrder(b.metric)
        }
    }

    /// The metrics evaluated, in the order they were given.
    public var metrics: [DistanceMetric] {
        var seen: [DistanceMetric] = []
        for setting in settings where !seen.contains(setting.metric) { seen.append(setting.metric) }
        return seen
    }
}
