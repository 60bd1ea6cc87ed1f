import Foundation
import PerceptCore

/// Precision, recall, F1 and support per class, with accuracy and macro and weighted
/// averages, as in scikit-learn's `classification_report`.
///
/// Definitions, for class c: precision = correct c / predicted c; recall = correct c / true c
/// (its support); F1 = 2·P·R / (P + R), 0 when P + R = 0.
/// - Precision is `nil` (undefined) when c is never predicted, recall is `nil` when c never
///   occurs. F1 is still 0 when either is defined and 0 (e.g. never predicting a class that
///   occurs), and `nil` only when neither is defined.
/// - The averages run over the classes that occur in the truth or the predictions; an
///   undefined value counts as 0 there (scikit-learn's `zero_division=0`), so never predicting
///   a class lowers macro precision rather than being skipped. Weights are the supports.
public struct ClassificationReport: Sendable, Equatable, Codable {
    public struct ClassMetrics: Sendable, Equatable, Codable {
        public var name: String
        public var precision: Double?
        public var recall: Double?
        public var f1: Double?
        public var support: Int
    }

    public struct Average: Sendable, Equatable, Codable {
        public var precision: Double
        public var recall: Double
        public var f1: Double
        public var support: Int
    }

    public var classes: [ClassMetrics]
    public var accuracy: Double
    public var macroAverage: Average
    public var weightedAverage: Average
    public var total: Int

    public init(_ confusion: ConfusionMatrix) {
        let c = confusion.classCount
        var classes: [ClassMetrics] = []
        var included: [Int] = []
        for label in 0..<c {
            let correct = confusion.counts[label][label]
            let support = confusion.support(of: label), predicted = confusion.predictedCount(of: label)
            let precision = predicted > 0 ? Double(correct) / Double(predicted) : nil
            let recall = support > 0 ? Double(correct) / Double(support) : nil
            let f1: Double?
            switch (precision, recall) {
            case (nil, nil): f1 = nil
            case let (p, r):
                let p = p ?? 0, r = r ?? 0
                f1 = p + r > 0 ? 2 * p * r / (p + r) : 0
            }
            classes.append(ClassMetrics(name: confusion.classNames[label], precision: precision, recall: recall,
                                        f1: f1, support: support))
            if support > 0 || predicted > 0 { included.append(label) }
        }
        let total = confusion.total
        func average(_ value: (ClassMetrics) -> Double?, weighted: Bool) -> Double {
            guard !included.isEmpty else { return .nan }
            if weighted {
                guard total > 0 else { return .nan }
                return included.reduce(0) { $0 + (value(classes[$1]) ?? 0) * Double(classes[$1].support) } / Double(total)
            }
            return included.reduce(0) { $0 + (value(classes[$1]) ?? 0) } / Double(included.count)
        }
        func averages(weighted: Bool) -> Average {
            Average(precision: average(\.precision, weighted: weighted), recall: average(\.recall, weighted: weighted),
                    f1: average(\.f1, weighted: weighted), support: total)
        }
        self.classes = classes
        self.accuracy = confusion.accuracy
        self.macroAverage = averages(weighted: false)
        self.weightedAverage = averages(weighted: true)
        self.total = total
    }

    /// The report as an aligned text table; undefined values print as "n/a".
    public func rendered(digits: Int = 2) -> String {
        let headers = ["precision", "recall", "f1-score", "support"]
        let nameWidth = max("weighted avg".count, classes.map(\.name.count).max() ?? 0)
        let width = max(headers.map(\.count).max() ?? 0, digits + 2)
        func number(_ value: Double?) -> String {
            guard let value, !value.isNaN else { return "n/a" }
            return String(format: "%.\(digits)f", value)
        }
        func line(_ name: String, _ cells: [String]) -> String {
            pad(name, nameWidth) + cells.map { " " + pad($0, width) }.joined()
        }
        var lines = [line("", headers), ""]
        for metrics in classes {
            lines.append(line(metrics.name, [number(metrics.precision), number(metrics.recall), number(metrics.f1),
                                             String(metrics.support)]))
        }
        lines.append("")
        lines.append(line("accuracy", ["", "", number(accuracy), String(total)]))
        for (name, average) in [("macro avg", macroAverage), ("weighted avg", weightedAverage)] {
            lines.append(line(name, [number(average.precision), number(average.recall), number(average.f1),
                                     String(average.support)]))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
