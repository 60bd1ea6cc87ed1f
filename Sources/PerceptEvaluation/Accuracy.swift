import PerceptCore

/// The fraction of predictions equal to the true labels.
public func accuracy(predicted: [Int32], truth: [Int32]) throws -> Double {
    guard predicted.count == truth.count else {
        throw PerceptError.invalidArgument("\(predicted.count) predictions for \(truth.count) labels")
    }
    guard !truth.isEmpty else { return .nan }
    return Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(truth.count)
}
