import Foundation
import PerceptCore

/// How far apart two feature vectors are.
public enum DistanceMetric: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Manhattan distance: Σ |aᵢ − bᵢ|.
    case l1
    /// Euclidean distance: √Σ (aᵢ − bᵢ)².
    case l2
    /// Cosine distance: 1 − a·b / (‖a‖ ‖b‖), in [0, 2]; the angle between the vectors, blind to
    /// their lengths (brightness, for pixels). A zero vector is at distance 1 from everything.
    case cosine

    public var description: String { rawValue }

    /// The metric named `name` ("l1", "l2", "cosine"; also "manhattan", "euclidean"), any case.
    ///
    /// - Throws: `.invalidArgument` naming the metrics Percept knows.
    public init(parsing name: String) throws {
        switch name.trimmingCharacters(in: .whitespaces).lowercased() {
        case "l1", "manhattan": self = .l1
        case "l2", "euclidean": self = .l2
        case "cosine", "cos": self = .cosine
        default:
            throw PerceptError.invalidArgument(
                "unknown distance metric '\(name)'; use one of \(DistanceMetric.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// Metrics from a comma-separated list ("l1,l2"), in order, without repeats.
    public static func parseList(_ list: String) throws -> [DistanceMetric] {
        var metrics: [DistanceMetric] = []
        for name in list.split(separator: ",") {
            let metric = try DistanceMetric(parsing: String(name))
            if !metrics.contains(metric) { metrics.append(metric) }
        }
        guard !metrics.isEmpty else { throw PerceptError.invalidArgument("no distance metric given; use l1, l2 or cosine") }
        return metrics
    }
}

/// The plain, obviously correct search that the fast paths in `FlatIndex` are tested against:
/// every distance computed one pair at a time in index order, then a stable sort.
///
/// - Parameters: `queries` N×D, `vectors` M×D, `k` ≤ M.
public func referenceNearestNeighbors(queries: Tensor, vectors: Tensor, k: Int, metric: DistanceMetric) -> NeighborList {
    let d = vectors.columns
    precondition(queries.columns == d && k >= 1 && k <= vectors.rows, "referenceNearestNeighbors: bad shapes or k")
    var indices: [Int32] = [], distances: [Float] = []
    for q in 0..<queries.rows {
        let all = (0..<vectors.rows).map { j in
            (j, referenceDistance(queries.scalars[(q * d)..<((q + 1) * d)], vectors.scalars[(j * d)..<((j + 1) * d)], metric))
        }
        // Swift's sort is not stable; order by (distance, index) explicitly.
        let best = all.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.prefix(k)
        indices += best.map { Int32($0.0) }
        distances += best.map(\.1)
    }
    return NeighborList(k: k, indices: indices, distances: distances)
}

/// The distance between two vectors, summed in index order.
public func referenceDistance(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>, _ metric: DistanceMetric) -> Float {
    var sum: Float = 0
    switch metric {
    case .l1:
        for (x, y) in zip(a, b) { sum += abs(x - y) }
        return sum
    case .l2:
        for (x, y) in zip(a, b) { sum += (x - y) * (x - y) }
        return sum.squareRoot()
    case .cosine:
        // In Double: the reference should not share the fast path's rounding.
        var dot = 0.0, aa = 0.0, bb = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            aa += Double(x) * Double(x)
            bb += Double(y) * Double(y)
        }
        guard aa > 0, bb > 0 else { return 1 }
        return Float(1 - dot / (aa.squareRoot() * bb.squareRoot()))
    }
}
