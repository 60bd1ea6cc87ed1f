import PerceptCore

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

extension NeighborList {
    /// Recall@r of an approximate search against the exact one: the share of each query's exact
    /// r nearest that the approximate r nearest contain, averaged over queries. At r = 1: the share
    /// of queries whose nearest neighbour was found.
    public func recall(against exact: NeighborList, at r: Int) -> Double {
        let n = min(queryCount, exact.queryCount), r = min(r, k, exact.k)
        guard n > 0, r > 0 else { return 0 }
        var found = 0
        for query in 0..<n {
            let mine = Set(indices[(query * k)..<(query * k + r)])
            found += exact.indices[(query * exact.k)..<(query * exact.k + r)].filter { mine.contains($0) }.count
        }
        return Double(found) / Double(n * r)
    }
}
