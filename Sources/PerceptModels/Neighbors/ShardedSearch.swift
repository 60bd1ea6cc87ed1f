import PerceptCore
import PerceptData
import PerceptDistributed

/// Each query's nearest stored items with the exact distances the search ordered them by, as
/// order-keeping integers (`keys`): L1 sums and squared L2 distances for byte rows, Float bit
/// patterns mapped to keep their order for Float features. Shard lists are merged on these, not
/// on the reported Float distances, which can round two different squared distances to one value.
///
/// Shape letters: N queries, K neighbours a query (0 for a rank whose shard is empty).
struct KeyedNeighbors: Equatable {
    let queryCount: Int
    let k: Int
    /// N×K keys, ascending within each query; equal keys in increasing index.
    var keys: [UInt64]
    /// N×K stored-item indices.
    var indices: [Int32]

    init(k: Int, keys: [UInt64], indices: [Int32], queryCount: Int? = nil) {
        precondition(keys.count == indices.count, "KeyedNeighbors: \(keys.count) keys, \(indices.count) indices")
        self.k = k
        self.keys = keys
        self.indices = indices
        self.queryCount = queryCount ?? (k > 0 ? keys.count / k : 0)
    }

    /// The lists of a search that found nothing (an empty shard): N queries of K = 0.
    static func empty(queryCount: Int) -> KeyedNeighbors {
        KeyedNeighbors(k: 0, keys: [], indices: [], queryCount: queryCount)
    }

    /// The public form: distances as the index reports them.
    func neighborList(distance: (UInt64) -> Float) -> NeighborList {
        NeighborList(k: max(k, 1), indices: indices, distances: keys.map(distance))
    }

    /// Indices shifted by `offset`: a shard's local row numbers as the whole training set's.
    func offset(by offset: Int) -> KeyedNeighbors {
        var copy = self
        copy.indices = indices.map { $0 + Int32(offset) }
        return copy
    }
}

/// Exact k-NN search with the stored items split across the ranks of a job.
///
/// Each rank searches its contiguous shard (`Communicator.shard(of:)`) with the single-process
/// kernels, keeps each query's K best (key, global index), and the ranks exchange those lists
/// (one allgather of N·K·12 bytes a rank) and merge them on (key, index): the lower training index
/// wins among equal distances, as in one process, so the merged lists are the single-process lists.
///
/// Cost of the merge on every rank: N·K·R comparisons for R ranks (a K-way pick per query), next to
/// the search's N·M·D/R byte operations: negligible unless K·R approaches M·D/R.
enum ShardedSearch {
    /// Runs `searchShard` on this rank's rows (local numbering), exchanges and merges.
    static func search(queryCount: Int, k: Int, storedCount: Int, communicator: Communicator,
                       timings: ShardedSearchTimings?,
                       searchShard: (_ rows: Range<Int>, _ k: Int) throws -> KeyedNeighbors) throws -> KeyedNeighbors {
        let rows = communicator.shard(of: storedCount)
        let clock = ContinuousClock()
        var start = clock.now
        let local = rows.isEmpty ? KeyedNeighbors.empty(queryCount: queryCount)
                                 : try searchShard(rows, min(k, rows.count)).offset(by: rows.lowerBound)
        timings?.search += (clock.now - start).seconds
        start = clock.now
        let parts = try communicator.allgather(encode(local)).enumerated().map { try decode($0.element, rank: $0.offset) }
        timings?.exchange += (clock.now - start).seconds
        start = clock.now
        let merged = try merge(parts, k: k)
        timings?.merge += (clock.now - start).seconds
        return merged
    }

    /// The K best of each query over all ranks' lists, by (key, index).
    static func merge(_ parts: [KeyedNeighbors], k: Int) throws -> KeyedNeighbors {
        guard let n = parts.first?.queryCount else { return KeyedNeighbors(k: k, keys: [], indices: []) }
        for (rank, part) in parts.enumerated() where part.queryCount != n {
            throw DistributedError.mismatch(what: "queries", detail: "rank \(rank) searched \(part.queryCount), rank 0 searched \(n)")
        }
        let available = parts.reduce(0) { $0 + $1.k }
        guard available >= k else {
            throw DistributedError.invalidArgument("the ranks found \(available) neighbours a query, fewer than k = \(k)")
        }
        var keys = [UInt64](), indices = [Int32]()
        keys.reserveCapacity(n * k)
        indices.reserveCapacity(n * k)
        var next = [Int](repeating: 0, count: parts.count)
        for query in 0..<n {
            for p in next.indices { next[p] = 0 }
            for _ in 0..<k {
                var best = -1, bestKey = UInt64.max, bestIndex = Int32.max
                for (p, part) in parts.enumerated() where next[p] < part.k {
                    let position = query * part.k + next[p]
                    let key = part.keys[position], index = part.indices[position]
                    if best < 0 || key < bestKey || (key == bestKey && index < bestIndex) {
                        best = p
                        bestKey = key
                        bestIndex = index
                    }
                }
                next[best] += 1
                keys.append(bestKey)
                indices.append(bestIndex)
            }
        }
        return KeyedNeighbors(k: k, keys: keys, indices: indices)
    }

    // MARK: - Wire format: N and K as UInt64, then N·K (key UInt64, index Int32), little-endian.

    static func encode(_ list: KeyedNeighbors) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(16 + list.keys.count * 12)
        func append(_ value: UInt64, bytes count: Int) {
            for shift in stride(from: 0, to: count * 8, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        append(UInt64(list.queryCount), bytes: 8)
        append(UInt64(list.k), bytes: 8)
        for (key, index) in zip(list.keys, list.indices) {
            append(key, bytes: 8)
            append(UInt64(UInt32(bitPattern: index)), bytes: 4)
        }
        return bytes
    }

    static func decode(_ bytes: [UInt8], rank: Int) throws -> KeyedNeighbors {
        func read(_ offset: Int, bytes count: Int) -> UInt64 {
            var value: UInt64 = 0
            for i in 0..<count { value |= UInt64(bytes[offset + i]) << UInt64(8 * i) }
            return value
        }
        guard bytes.count >= 16 else {
            throw DistributedError.invalidArgument("rank \(rank) sent \(bytes.count) bytes of neighbour lists, fewer than a header")
        }
        let n = Int(clamping: read(0, bytes: 8)), k = Int(clamping: read(8, bytes: 8))
        let entries = (bytes.count - 16) / 12
        // Checked by division, so no product of two untrusted numbers can overflow.
        let sizesAgree = (bytes.count - 16) % 12 == 0 && (k == 0 ? entries == 0 : entries % k == 0 && entries / k == n)
        guard sizesAgree else {
            throw DistributedError.invalidArgument("rank \(rank) sent \(bytes.count) bytes for \(n) queries × \(k) neighbours")
        }
        var keys = [UInt64](), indices = [Int32]()
        keys.reserveCapacity(n * k)
        indices.reserveCapacity(n * k)
        var offset = 16
        for _ in 0..<(n * k) {
            keys.append(read(offset, bytes: 8))
            indices.append(Int32(bitPattern: UInt32(truncatingIfNeeded: read(offset + 8, bytes: 4))))
            offset += 12
        }
        return KeyedNeighbors(k: k, keys: keys, indices: indices, queryCount: n)
    }
}

/// Where a sharded search spent its time on this rank (benchmarks): the shard's search, the
/// exchange of the lists (including waiting for slower ranks), the merge.
public final class ShardedSearchTimings: @unchecked Sendable {
    public var search = 0.0
    public var exchange = 0.0
    public var merge = 0.0
    public init() {}
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
