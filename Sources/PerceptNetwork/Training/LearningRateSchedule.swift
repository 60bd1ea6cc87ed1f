import Foundation

/// The learning rate as a function of the step, over a run of `totalSteps` steps. `peak` is the
/// schedule's largest learning rate (the CLI's `--lr`); the shapes scale it.
///
/// Every schedule may start with a linear warm-up from 0 over `warmupSteps` (Goyal et al. 2017);
/// after it the shape runs over the remaining steps:
/// - `constant`: the peak learning rate throughout;
/// - `step`: × `factor` every `every` steps;
/// - `cosine`: from the peak down to `final`·peak along half a cosine (Loshchilov & Hutter 2017);
/// - `oneCycle`: linear up from `start`·peak to the peak at fraction `peakAt` of the run, then
///   linearly down to `final`·peak (Smith 2018; airbench's triangular schedule).
public struct LearningRateSchedule: Codable, Sendable, Equatable {
    public enum Shape: Codable, Sendable, Equatable {
        case constant
        case step(every: Int, factor: Double)
        case cosine(final: Double)
        case oneCycle(start: Double, peakAt: Double, final: Double)
    }

    public var peak: Double
    public var shape: Shape
    public var warmupSteps: Int

    public init(peak: Double, shape: Shape = .constant, warmupSteps: Int = 0) {
        self.peak = peak
        self.shape = shape
        self.warmupSteps = max(0, warmupSteps)
    }

    /// The learning rate for step `step` (0-based) of `totalSteps`.
    public func learningRate(step: Int, totalSteps: Int) -> Double {
        if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps) }
        let t = step - warmupSteps, span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Double(t) / Double(span))
        switch shape {
        case .constant:
            return peak
        case let .step(every, factor):
            return peak * pow(factor, Double(t / max(1, every)))
        case let .cosine(final):
            return peak * (final + (1 - final) * 0.5 * (1 + cos(Double.pi * progress)))
        case let .oneCycle(start, peakAt, final):
            if progress < peakAt {
                return peak * (start + (1 - start) * progress / max(peakAt, 1e-12))
            }
            return peak * (1 + (final - 1) * (progress - peakAt) / max(1 - peakAt, 1e-12))
        }
    }
}
