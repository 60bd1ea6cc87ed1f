import PerceptCore

/// How far apart two feature vectors are.
public enum DistanceMetric: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Manhattan distance: Σ |aᵢ − bᵢ|.
    case l1
    /// Euclidean distance: √Σ (aᵢ − bᵢ)².
    case l2

    public var description: String { rawValue }
}

/// The nearest training vectors of each query: N×K indices and distances, nearest first,
/// equal distances in increasing training index.
public struct NeighborList: Sendable, Equatable {
    /// K, the neighbours per query.
    public let k: Int
    /// N×K training indices.
    public var indices: [Int32]
    /// N×K distances, in the metric's own units (Euclidean, not squared, for L2).
    public var distances: [Float]

    public init(k: Int, indices: [Int32], distances: [Float]) {
        precondition(k > 0 && indices.count == distances.count && indices.count % k == 0,
                     "NeighborList: \(indices.count) indices and \(distances.count) distances for k = \(k)")
        self.k = k
        self.indices = indices
        self.distances = distances
    }

    /// N, the number of queries.
    public var queryCount: Int { indices.count / k }

    /// The neighbours of query `query`, nearest first.
    public func neighbors(of query: Int) -> ArraySlice<Int32> { indices[(query * k)..<((query + 1) * k)] }
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
    for (x, y) in zip(a, b) {
        switch metric {
        case .l1: sum += abs(x - y)
        case .l2: sum += (x - y) * (x - y)
        }
    }
    return metric == .l2 ? sum.squareRoot() : sum
}
