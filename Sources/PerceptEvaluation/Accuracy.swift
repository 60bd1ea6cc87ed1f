import PerceptCore
import PerceptModelKit

/// The fraction of predictions equal to the true labels (NaN for no items).
public func accuracy(predicted: [Int32], truth: [Int32]) throws -> Double {
    guard predicted.count == truth.count else {
        throw PerceptError.invalidArgument("\(predicted.count) predictions for \(truth.count) labels")
    }
    guard !truth.isEmpty else { return .nan }
    return Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(truth.count)
}

/// The fraction of items whose true class is among the `k` highest scores of its row (N×C).
///
/// Equal scores rank the lower class index first, as `Classifier.topK` does: with scores
/// (0.5, 0.5, 0) the top-1 class is 0, so an item of class 1 is a miss. A NaN score for the
/// true class is always a miss. For a model that ranks its own way (k-NN), pass its
/// `topK` result to `topKAccuracy(rankings:truth:k:)` instead.
public func topKAccuracy(scores: Tensor, truth: [Int32], k: Int) throws -> Double {
    guard k >= 1 else { throw PerceptError.invalidArgument("top-k accuracy needs k ≥ 1, got \(k)") }
    guard scores.rank == 2, scores.rows == truth.count else {
        throw PerceptError.invalidArgument("scores of shape \(scores.shape) for \(truth.count) labels; expected [\(truth.count), classes]")
    }
    let c = scores.columns
    if let bad = truth.first(where: { $0 < 0 || Int($0) >= c }) {
        throw PerceptError.invalidArgument("label \(bad) outside the \(c) score columns")
    }
    guard !truth.isEmpty else { return .nan }
    var hits = 0
    for (row, label) in truth.enumerated() {
        let t = Int(label)
        let trueScore = scores.scalars[row * c + t]
        guard !trueScore.isNaN else { continue }
        // The true class's rank: classes scoring higher, plus equal scores with a lower index.
        var ahead = 0
        for j in 0..<c {
            let s = scores.scalars[row * c + j]
            if s > trueScore || (s == trueScore && j < t) { ahead += 1 }
        }
        if ahead < k { hits += 1 }
    }
    return Double(hits) / Double(truth.count)
}

/// The fraction of items whose true class is among the first `k` of its ranking (best first),
/// e.g. the output of `Classifier.topK`.
public func topKAccuracy(rankings: [[Int]], truth: [Int32], k: Int) throws -> Double {
    guard k >= 1 else { throw PerceptError.invalidArgument("top-k accuracy needs k ≥ 1, got \(k)") }
    guard rankings.count == truth.count else {
        throw PerceptError.invalidArgument("\(rankings.count) rankings for \(truth.count) labels")
    }
    guard !truth.isEmpty else { return .nan }
    let hits = zip(rankings, truth).filter { $0.prefix(k).contains(Int($1)) }.count
    return Double(hits) / Double(truth.count)
}
