import PerceptCore

/// Counts of (true class, predicted class) pairs: `counts[t][p]` items of class t were
/// predicted as p. Rows are true classes, columns predicted classes; the diagonal is correct.
public struct ConfusionMatrix: Sendable, Equatable, Codable {
    public let classNames: [String]
    /// C×C counts, rows = true class, columns = predicted class.
    public private(set) var counts: [[Int]]

    /// An empty matrix for the given classes.
    public init(classNames: [String]) {
        self.classNames = classNames
        counts = Array(repeating: Array(repeating: 0, count: classNames.count), count: classNames.count)
    }

    /// The matrix of `predicted` against `truth` (same length, labels in `0..<classNames.count`).
    public init(truth: [Int32], predicted: [Int32], classNames: [String]) throws {
        guard truth.count == predicted.count else {
            throw PerceptError.invalidArgument("\(predicted.count) predictions for \(truth.count) labels")
        }
        self.init(classNames: classNames)
        for (t, p) in zip(truth, predicted) { try record(truth: t, predicted: p) }
    }

    /// Counts one more item of class `truth` predicted as `predicted`.
    public mutating func record(truth: Int32, predicted: Int32) throws {
        let c = classNames.count
        guard truth >= 0, Int(truth) < c, predicted >= 0, Int(predicted) < c else {
            throw PerceptError.invalidArgument("label pair (\(truth), \(predicted)) outside the \(c) classes")
        }
        counts[Int(truth)][Int(predicted)] += 1
    }

    public var classCount: Int { classNames.count }
    /// All items counted.
    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    /// Items predicted correctly: the diagonal.
    public var correct: Int { counts.indices.reduce(0) { $0 + counts[$1][$1] } }
    /// Correct / total; NaN when empty.
    public var accuracy: Double { total == 0 ? .nan : Double(correct) / Double(total) }
    /// Items truly of `label`: its row sum.
    public func support(of label: Int) -> Int { counts[label].reduce(0, +) }
    /// Items predicted as `label`: its column sum.
    public func predictedCount(of label: Int) -> Int { counts.reduce(0) { $0 + $1[label] } }

    /// The matrix as an aligned text table, true classes down, predicted classes across.
    public func rendered() -> String {
        let corner = "true \\ predicted"
        let labelWidth = max(corner.count, classNames.map(\.count).max() ?? 0)
        let columnWidths = classNames.indices.map { column in
            max(classNames[column].count, counts.map { String($0[column]).count }.max() ?? 1)
        }
        var lines = [pad(corner, labelWidth, left: true)
            + zip(classNames, columnWidths).map { "  " + pad($0, $1) }.joined()]
        for (row, name) in classNames.enumerated() {
            lines.append(pad(name, labelWidth, left: true)
                + zip(counts[row], columnWidths).map { "  " + pad(String($0), $1) }.joined())
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// `text` padded with spaces to `width`: right-aligned, or left-aligned when `left`.
func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return left ? text + padding : padding + text
}
