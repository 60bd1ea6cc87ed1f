import PerceptCore

/// The distance loops of `KMeans`: nearest centres by GEMM a block of vectors with a fused top-k,
/// and k-means++ seeding by one GEMV a centre.
extension KMeans {
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
