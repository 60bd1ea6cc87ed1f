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

}
