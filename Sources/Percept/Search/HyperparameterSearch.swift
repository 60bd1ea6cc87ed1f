import Foundation
import PerceptCore
import PerceptData
import PerceptEvaluation
import PerceptModelKit

/// The lecture's hyper-parameter search on a validation split, for any registered family:
/// every combination of the candidate values (grid) or seeded log-uniform samples between the
/// smallest and largest candidates (random), each fitted on the training images and measured
/// on validation images it never saw. The test split is not involved.
public struct HyperparameterSearch {
    public enum Strategy: Sendable, Equatable {
        case grid
        /// Real-valued options (learning rate, regularisation) are sampled log-uniformly between
        /// their smallest and largest candidates; others (hidden sizes, names) pick a candidate.
        case random(trials: Int)
    }

    /// One fitted setting and how it did.
    public struct Trial: Sendable, Codable, Equatable {
        /// The searched options' values (the fixed ones are in `HyperparameterSearch.fixed`).
        public var values: [String: String]
        public var trainAccuracy: Double?
        public var validationAccuracy: Double?
        public var epochs: Int
        public var seconds: Double
        /// Why the setting produced no model (it diverged); nil when it did.
        public var failure: String?
    }

    public struct Result {
        public var trials: [Trial]
        /// The trial with the highest validation accuracy, and its model.
        public var best: (trial: Trial, model: FittedModel)?
    }

    public var family: any ModelFamily.Type
    /// Option → the values to try, in order.
    public var candidates: [(name: String, values: [String])]
    /// Options that stay the same in every trial.
    public var fixed: [String: String]
    public var strategy: Strategy
    public var seed: UInt64

    public init(family: any ModelFamily.Type, candidates: [(name: String, values: [String])], fixed: [String: String] = [:],
                strategy: Strategy = .grid, seed: UInt64 = 0) {
        self.family = family
        self.candidates = candidates
        self.fixed = fixed
        self.strategy = strategy
        self.seed = seed
    }

    /// The searched values of every trial, in the order they run; each checked against the family's options.
    public func trialValues() throws -> [[String: String]] {
        for (name, values) in candidates where values.isEmpty {
            throw PerceptError.invalidArgument("--\(name) needs at least one value to search")
        }
        switch strategy {
        case .grid:
            return candidates.reduce([[:]]) { partial, option in
                partial.flatMap { values in option.values.map { values.merging([option.name: $0]) { $1 } } }
            }
        case let .random(trials):
            guard trials >= 1 else { throw PerceptError.invalidArgument("a random search needs at least 1 trial, got \(trials)") }
            var random = SeededRandom.stream(seed: seed, index: 0x7E57)
            return (0..<trials).map { _ in
                var values: [String: String] = [:]
                for (name, options) in candidates {
                    let numbers = options.compactMap(Double.init)
                    let wholeNumbers = options.allSatisfy { Int($0) != nil }
                    if !wholeNumbers, numbers.count == options.count, let low = numbers.min(), let high = numbers.max(),
                       low > 0, high > low {
                        values[name] = String(Float(exp(log(low) + (log(high) - log(low)) * random.nextUnitDouble())))
                    } else {
                        values[name] = options[Int(random.next() % UInt64(options.count))]
                    }
                }
                return values
            }
        }
    }

    /// Fits every trial on `job.train` and measures it on `job.validation` (required).
    public func run(_ job: TrainingJob) throws -> Result {
        guard let validation = job.validation, !validation.isEmpty else {
            throw PerceptError.invalidData("a hyper-parameter search needs validation images")
        }
        let values = try trialValues()
        let settings = try values.map { try family.settings(fixed.merging($0) { $1 }) }
        var trials: [Trial] = [], best: (trial: Trial, model: FittedModel)?
        let outcomes = try family.fitEach(settings, job)
        for (index, outcome) in outcomes.enumerated() {
            var trial = Trial(values: values[index], epochs: 0, seconds: 0)
            switch outcome {
            case let .success(fitted):
                trial.epochs = fitted.history?.epochs.count ?? 0
                trial.seconds = fitted.seconds
                trial.trainAccuracy = fitted.history?.trainAccuracies.last
                // Measured on the returned model (a CNN may keep its best epoch's weights, not its last).
                trial.validationAccuracy = try accuracy(predicted: fitted.model.predict(validation), truth: validation.labels)
                if (trial.validationAccuracy ?? -1) > (best?.trial.validationAccuracy ?? -1) { best = (trial, fitted) }
            case let .failure(error):
                trial.failure = error.reason
            }
            trials.append(trial)
        }
        return Result(trials: trials, best: best)
    }
}
