import PerceptCore

/// The `width` smallest (distance, index) pairs of each of N queries, sorted ascending, kept
/// while distances arrive tile by tile (the fused top-k of `ByteIndex`).
///
/// Stored indices must be offered in increasing order (tiles walk the index front to back), so
/// a candidate equal to the current worst never displaces it and equals keep index order:
/// ties resolve to the lower stored index without comparing indices.
struct TopKTable<Distance: Comparable> {
    let queries: Int
    let width: Int
    private var distances: [Distance]
    private var indices: [Int32]
    private var filled: [Int32]

    init(queries: Int, width: Int, worst: Distance) {
        self.queries = queries
        self.width = width
        distances = Array(repeating: worst, count: queries * width)
        indices = Array(repeating: -1, count: queries * width)
        filled = Array(repeating: 0, count: queries)
    }

    /// Raw access for the parallel loops: each worker must offer only to its own rows.
    struct Pointers: @unchecked Sendable {
        let width: Int
        let distances: UnsafeMutablePointer<Distance>
        let indices: UnsafeMutablePointer<Int32>
        let filled: UnsafeMutablePointer<Int32>

        /// Offers `count` distances for stored indices `firstIndex…` to query `row`.
        @inline(__always)
        func offer(row: Int, distances values: UnsafePointer<Distance>, count: Int, firstIndex: Int) {
            let best = distances + row * width, bestIndices = indices + row * width
            var size = Int(filled[row]), j = 0
            while size < width && j < count {
                insert(values[j], Int32(firstIndex + j), best, bestIndices, size)
                size += 1
                j += 1
            }
            if j < count {
                var worst = best[width - 1]
                while j < count {
                    let value = values[j]
                    if value < worst {
                        insert(value, Int32(firstIndex + j), best, bestIndices, width - 1)
                        worst = best[width - 1]
                    }
                    j += 1
                }
            }
            filled[row] = Int32(size)
        }

        /// The current k-th (last kept) distance of query `row`: the sentinel `worst` until full.
        @inline(__always)
        func worst(row: Int) -> Distance { distances[row * width + width - 1] }

        /// Offers one candidate to query `row`; its index must exceed every index offered before.
        @inline(__always)
        func offer(row: Int, distance: Distance, index: Int) {
            let best = distances + row * width, bestIndices = indices + row * width
            let size = Int(filled[row])
            if size < width {
                insert(distance, Int32(index), best, bestIndices, size)
                filled[row] = Int32(size + 1)
            } else if distance < best[width - 1] {
                insert(distance, Int32(index), best, bestIndices, width - 1)
            }
        }

        /// Offers one candidate whose index may come in any order: kept sorted by (distance, index).
        @inline(__always)
        func offerUnordered(row: Int, distance: Distance, index: Int) {
            let best = distances + row * width, bestIndices = indices + row * width
            let size = Int(filled[row]), candidate = Int32(index)
            var p: Int
            if size < width {
                p = size
                filled[row] = Int32(size + 1)
            } else {
                let last = width - 1
                guard distance < best[last] || (distance == best[last] && candidate < bestIndices[last]) else { return }
                p = last
            }
            while p > 0 && (best[p - 1] > distance || (best[p - 1] == distance && bestIndices[p - 1] > candidate)) {
                best[p] = best[p - 1]
                bestIndices[p] = bestIndices[p - 1]
                p -= 1
            }
            best[p] = distance
            bestIndices[p] = candidate
        }

        /// Puts (value, index) into the sorted prefix of length `size`, after every entry ≤ value.
        @inline(__always)
        private func insert(_ value: Distance, _ index: Int32, _ best: UnsafeMutablePointer<Distance>,
                            _ bestIndices: UnsafeMutablePointer<Int32>, _ size: Int) {
            var p = size
            while p > 0 && best[p - 1] > value {
                best[p] = best[p - 1]
                bestIndices[p] = bestIndices[p - 1]
                p -= 1
            }
            best[p] = value
            bestIndices[p] = index
        }
    }

    mutating func withPointers(_ body: (Pointers) -> Void) {
        let width = width
        distances.withUnsafeMutableBufferPointer { d in
            indices.withUnsafeMutableBufferPointer { i in
                filled.withUnsafeMutableBufferPointer { f in
                    guard let dp = d.baseAddress, let ip = i.baseAddress, let fp = f.baseAddress else { return }
                    body(Pointers(width: width, distances: dp, indices: ip, filled: fp))
                }
            }
        }
    }

    /// The first `k` entries of each query, distances converted by `convert`.
    func neighborList(k: Int, convert: (Distance) -> Float) -> NeighborList {
        let (outIndices, outDistances) = firstEntries(k: k, convert)
        return NeighborList(k: k, indices: outIndices, distances: outDistances)
    }

    /// The first `k` entries of each query, row after row: their indices and their distances mapped by `map`.
    private func firstEntries<Value>(k: Int, _ map: (Distance) -> Value) -> (indices: [Int32], values: [Value]) {
        var outIndices = [Int32](), outValues = [Value]()
        outIndices.reserveCapacity(queries * k)
        outValues.reserveCapacity(queries * k)
        for row in 0..<queries {
            for r in 0..<k {
                outIndices.append(indices[row * width + r])
                outValues.append(map(distances[row * width + r]))
            }
        }
        return (outIndices, outValues)
    }

    /// The `k` best of each query's candidates after recomputing their distances with `exact`,
    /// ordered by (exact distance, index).
    func neighborList<Exact: Comparable>(k: Int, rerank exact: (_ row: Int, _ index: Int32) -> Exact,
                                         convert: (Exact) -> Float) -> NeighborList {
        var outIndices = [Int32](), outDistances = [Float]()
        outIndices.reserveCapacity(queries * k)
        outDistances.reserveCapacity(queries * k)
        for row in 0..<queries {
            let candidates = reranked(row: row, exact)
            for (distance, index) in candidates.prefix(k) {
                outIndices.append(index)
                outDistances.append(convert(distance))
            }
            for _ in min(k, candidates.count)..<k {  // fewer candidates than k (IVF): empty places
                outIndices.append(-1)
                outDistances.append(.infinity)
            }
        }
        return NeighborList(k: k, indices: outIndices, distances: outDistances)
    }

    /// The first `k` entries of each query with their exact distances as `key` gives them: what a
    /// shard of a sharded search sends to be merged (``KeyedNeighbors``).
    func keyedNeighbors(k: Int, key: (Distance) -> UInt64) -> KeyedNeighbors {
        let (outIndices, outKeys) = firstEntries(k: k, key)
        return KeyedNeighbors(k: k, keys: outKeys, indices: outIndices)
    }

    /// The `k` best of each query's candidates by (exact distance, index) after recomputing their
    /// distances with `exact` (every query must have at least `k` candidates, as a flat search does).
    func keyedNeighbors(k: Int, rerank exact: (_ row: Int, _ index: Int32) -> UInt64) -> KeyedNeighbors {
        var outIndices = [Int32](), outKeys = [UInt64]()
        outIndices.reserveCapacity(queries * k)
        outKeys.reserveCapacity(queries * k)
        for row in 0..<queries {
            for (key, index) in reranked(row: row, exact).prefix(k) {
                outIndices.append(index)
                outKeys.append(key)
            }
        }
        return KeyedNeighbors(k: k, keys: outKeys, indices: outIndices)
    }

    /// One query's candidates with their distances recomputed by `exact`, ordered by (exact
    /// distance, index): the lower index first among equals, as everywhere in the search.
    private func reranked<Exact: Comparable>(row: Int, _ exact: (_ row: Int, _ index: Int32) -> Exact)
        -> [(distance: Exact, index: Int32)] {
        var candidates: [(distance: Exact, index: Int32)] = []
        for r in 0..<Int(filled[row]) where indices[row * width + r] >= 0 {
            let index = indices[row * width + r]
            candidates.append((exact(row, index), index))
        }
        candidates.sort { a, b in a.distance != b.distance ? a.distance < b.distance : a.index < b.index }
        return candidates
    }

    /// Reference twin of the table (the test oracle): for each query's full row of distances,
    /// the `k` smallest by (distance, index), so equal distances go to the lower index.
    static func reference(_ rows: [[Distance]], k: Int) -> (indices: [[Int32]], distances: [[Distance]]) {
        var indices: [[Int32]] = [], distances: [[Distance]] = []
        for row in rows {
            let order = row.indices.sorted { row[$0] != row[$1] ? row[$0] < row[$1] : $0 < $1 }.prefix(k)
            indices.append(order.map { Int32($0) })
            distances.append(order.map { row[$0] })
        }
        return (indices, distances)
    }
}
