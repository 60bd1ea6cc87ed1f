import PerceptCore

/// Lloyd's k-means with seeded initial centres: the coarse quantiser of `IVFIndex`.
///
/// Shape letters: N vectors, D dimensions, K clusters. Assignments use one GEMM per block
/// (‖c‖² − 2 x·c; ‖x‖² is the same for every centre), ties go to the lower centre index, and
/// means are summed in Double, so the result depends only on the data, K, the iteration count
/// and the seed — not on the thread count.
public struct KMeans: Sendable {
    /// K×D centres.
    public private(set) var centroids: [Float]
    public let clusters: Int
    public let dimension: Int

    /// Clusters `count` vectors (N×D, row-major).
    ///
    /// - Initial centres: k-means++ (each next centre drawn with probability ∝ squared distance to
    ///   the nearest centre so far), with `seed`. An emptied cluster is restarted
    ///   at a vector drawn (with the same generator) from the largest cluster.
    /// - Throws: `.invalidArgument` unless 1 ≤ K ≤ N; `.invalidData` for NaN or infinite values.
    public init(vectors: [Float], dimension d: Int, clusters k: Int, iterations: Int = 20, seed: UInt64,
                threads: Int? = nil) throws {
        guard d > 0, vectors.count % d == 0 else {
            throw PerceptError.invalidData("\(vectors.count) values do not make vectors of \(d)")
        }
        let n = vectors.count / d
        guard k >= 1, k <= n else {
            throw PerceptError.invalidArgument("k-means needs 1 ≤ clusters ≤ \(n) vectors, got \(k) clusters")
        }
        guard vectors.allSatisfy(\.isFinite) else { throw PerceptError.invalidData("k-means got NaN or infinite values") }
        var random = SeededRandom(seed: seed)
        let centroids = KMeans.plusPlusCentres(vectors, count: n, dimension: d, clusters: k, random: &random)
        self.clusters = k
        self.dimension = d
        self.centroids = centroids
        var assignments = [Int32](repeating: -1, count: n)
        for _ in 0..<max(1, iterations) {
            let next = assign(vectors, threads: threads)
            if next == assignments { break }
            assignments = next
            var sums = [Double](repeating: 0, count: k * d), sizes = [Int](repeating: 0, count: k)
            for (i, c) in assignments.enumerated() {
                sizes[Int(c)] += 1
                for t in 0..<d { sums[Int(c) * d + t] += Double(vectors[i * d + t]) }
            }
            for c in 0..<k where sizes[c] > 0 {
                for t in 0..<d { self.centroids[c * d + t] = Float(sums[c * d + t] / Double(sizes[c])) }
            }
            for c in 0..<k where sizes[c] == 0 {
                // Restart an empty cluster on a member of the largest one.
                let largest = sizes.indices.max { sizes[$0] < sizes[$1] } ?? 0
                let members = assignments.indices.filter { assignments[$0] == Int32(largest) }
                let pick = members[Int(random.next() % UInt64(members.count))]
                self.centroids.replaceSubrange((c * d)..<((c + 1) * d), with: vectors[(pick * d)..<((pick + 1) * d)])
                sizes[c] = 1
                sizes[largest] -= 1
            }
        }
    }

    /// The nearest centre of each vector (N×D).
    public func assign(_ vectors: [Float], threads: Int? = nil) -> [Int32] {
        let n = vectors.count / dimension
        let nearest = nearestCentroids(vectors, count: n, probes: 1, threads: threads)
        return nearest
    }

    /// The `probes` nearest centres of each of `count` vectors, nearest first (N×probes).
    public func nearestCentroids(_ vectors: [Float], count n: Int, probes: Int, threads: Int? = nil) -> [Int32] {
        let d = dimension, k = clusters, probes = min(probes, k)
        let norms = (0..<k).map { c in (0..<d).reduce(Float(0)) { $0 + centroids[c * d + $1] * centroids[c * d + $1] } }
        var result = [Int32](repeating: 0, count: n * probes)
        let block = 512
        vectors.withUnsafeBufferPointer { x in
            centroids.withUnsafeBufferPointer { c in
                result.withUnsafeMutableBufferPointer { out in
                    guard let x = x.baseAddress, let c = c.baseAddress else { return }
                    nonisolated(unsafe) let out = out
                    BLAS.withThreadCount(1) {
                        Parallel.forEachChunk(count: (n + block - 1) / block, threads: threads) { blocks in
                            var products = [Float](repeating: 0, count: block * k)
                            var table = TopKTable<Float>(queries: block, width: probes, worst: .infinity)
                            for b in blocks {
                                let start = b * block, rows = min(block, n - start)
                                products.withUnsafeMutableBufferPointer { p in
                                    guard let p = p.baseAddress else { return }
                                    BLAS.gemm(transposeB: true, m: rows, n: k, k: d, alpha: -2, a: x + start * d, b: c,
                                              beta: 0, c: p)
                                    for i in 0..<rows { for j in 0..<k { p[i * k + j] += norms[j] } }
                                    table = TopKTable<Float>(queries: block, width: probes, worst: .infinity)
                                    table.withPointers { t in
                                        for i in 0..<rows { t.offer(row: i, distances: p + i * k, count: k, firstIndex: 0) }
                                    }
                                }
                                let found = table.neighborList(k: probes) { $0 }
                                for i in 0..<(rows * probes) { out[start * probes + i] = found.indices[i] }
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// k-means++ seeding: distances to the newest centre by one GEMV a centre.
    static func plusPlusCentres(_ vectors: [Float], count n: Int, dimension d: Int, clusters k: Int,
                                random: inout SeededRandom) -> [Float] {
        var centroids = [Float](repeating: 0, count: k * d)
        let norms = (0..<n).map { i in (0..<d).reduce(Float(0)) { $0 + vectors[i * d + $1] * vectors[i * d + $1] } }
        var nearest = [Float](repeating: .infinity, count: n)
        var products = [Float](repeating: 0, count: n)
        var pick = Int(random.next() % UInt64(n))
        for c in 0..<k {
            centroids.replaceSubrange((c * d)..<((c + 1) * d), with: vectors[(pick * d)..<((pick + 1) * d)])
            guard c + 1 < k else { break }
            vectors.withUnsafeBufferPointer { x in
                centroids.withUnsafeBufferPointer { centres in
                    products.withUnsafeMutableBufferPointer { p in
                        guard let x = x.baseAddress, let centres = centres.baseAddress, let p = p.baseAddress else { return }
                        BLAS.gemv(m: n, n: d, alpha: -2, a: x, x: centres + c * d, beta: 0, y: p)
                    }
                }
            }
            let centreNorm = norms[pick]
            var total = 0.0
            for i in 0..<n {
                nearest[i] = min(nearest[i], max(0, norms[i] + products[i] + centreNorm))
                total += Double(nearest[i])
            }
            // Draw the next centre ∝ squared distance; all at distance 0: the first not yet taken.
            var target = random.nextUnitDouble() * total
            pick = n - 1
            for i in 0..<n {
                target -= Double(nearest[i])
                if target < 0 && nearest[i] > 0 { pick = i; break }
            }
            if total == 0 { pick = c + 1 }
        }
        return centroids
    }
}
