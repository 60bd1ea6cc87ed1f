import Foundation

/// One label's precision–recall curve over the test images: rank the images by the probability
/// the model gives the label, and after each distinct probability count how many of those ranked
/// so far truly have it (precision) and how many of those that have it were reached (recall).
struct PrecisionRecallCurve: Equatable {
    struct Point: Equatable {
        var threshold: Double
        var recall: Double
        var precision: Double
    }

    /// From the highest threshold down; empty when no test image has the label.
    var points: [Point]
    /// The area under the step curve: Σ (recall gained) × precision there, scikit-learn's average precision.
    var averagePrecision: Double

    /// - Parameters:
    ///   - scores: the label's probability for every test image.
    ///   - positives: whether each test image truly has the label.
    init(scores: [Double], positives: [Bool]) {
        let total = positives.filter { $0 }.count
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points: [Point] = []
        var truePositives = 0
        var ranked = 0
        var area = 0.0
        var previousRecall = 0.0
        var position = 0
        while total > 0 && position < order.count {
            // Images with the same score are one step: a threshold cannot separate them.
            let threshold = scores[order[position]]
            while position < order.count && scores[order[position]] == threshold {
                if positives[order[position]] { truePositives += 1 }
                ranked += 1
                position += 1
            }
            let recall = Double(truePositives) / Double(total)
            let precision = Double(truePositives) / Double(ranked)
            area += (recall - previousRecall) * precision
            previousRecall = recall
            points.append(Point(threshold: threshold, recall: recall, precision: precision))
        }
        self.points = points
        averagePrecision = area
    }
}

/// AutoML's confidence threshold: a prediction counts only when its probability reaches the
/// threshold. Precision is the share of counted predictions that are right; recall the share of
/// all test images predicted right and counted. (The page's script computes the same as the slider moves.)
struct ThresholdMetrics: Equatable {
    var counted: Int
    var precision: Double?
    var recall: Double?

    init(threshold: Double, items: [TestPredictions.Item]) {
        let kept = items.filter { $0.confidence >= threshold }
        let right = kept.filter { $0.predicted == $0.truth }.count
        counted = kept.count
        precision = kept.isEmpty ? nil : Double(right) / Double(kept.count)
        recall = items.isEmpty ? nil : Double(right) / Double(items.count)
    }
}
