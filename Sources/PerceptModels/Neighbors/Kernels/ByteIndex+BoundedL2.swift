import CKernels
import PerceptCore
import PerceptData

/// Exact L2 search that skips most of the work: a cheap lower bound by GEMM on pooled images,
/// then exact integer distances only for the rows the bound cannot rule out.
///
/// The bound: cut the D coordinates into G groups (4×4 pixel cells of one channel for images,
/// runs of 16 bytes otherwise) and map a row x to P x, its group sums divided by √(group size).
/// P has orthonormal rows, so ‖P q − P v‖ ≤ ‖q − v‖ (Cauchy–Schwarz inside each group). At D = 3072,
/// G = 192: the bound costs 1/16 of the full GEMM, and on CIFAR-10 it rules out ~95% of the rows
/// before their exact distance is needed.
///
/// Exactness: a stored row is skipped only when its bound, lowered by a margin covering Float
/// rounding in the GEMM and the norms (max(3e-5, 2·G·2⁻²⁴)·(‖P q‖² + ‖P v‖²): G-term Float sums
/// err by at most G·2⁻²⁴ of their absolute terms, and 2|P q·P v| ≤ ‖P q‖² + ‖P v‖²; 3e-5 for every
/// G ≤ 251, as at CIFAR's 192, larger for the 73,728 groups of a 1 MB photo), is at least the
/// query's current k-th exact distance. Every row that could enter the top k gets its
/// exact integer distance (`percept_l2sq_u8`, AVX2), and rows arrive in index order, so ties go to
/// the lower index just as in the reference.
struct PooledBound: Sendable {
    /// G, the pooled dimension.
    let groups: Int
    /// The group of each of the D coordinates.
    private let groupOf: [Int32]
    /// 1/√(size) per group.
    private let scales: [Float]

    /// Groups for images of `layout` (H, W, C; interleaved channels), or runs of 16 bytes.
    init(dimension d: Int, layout: (height: Int, width: Int, channels: Int)?, cell: Int = 4) {
        var groupOf = [Int32](repeating: 0, count: d)
        var sizes: [Int] = []
        if let (h, w, c) = layout, h * w * c == d {
            let cellsAcross = (w + cell - 1) / cell, cellsDown = (h + cell - 1) / cell
            sizes = Array(repeating: 0, count: cellsAcross * cellsDown * c)
            for y in 0..<h {
                for x in 0..<w {
                    for channel in 0..<c {
                        let group = ((y / cell) * cellsAcross + x / cell) * c + channel
                        groupOf[(y * w + x) * c + channel] = Int32(group)
                        sizes[group] += 1
                    }
                }
            }
        } else {
            let run = cell * cell
            sizes = Array(repeating: 0, count: (d + run - 1) / run)
            for t in 0..<d {
                groupOf[t] = Int32(t / run)
                sizes[t / run] += 1
            }
        }
        groups = sizes.count
        self.groupOf = groupOf
        scales = sizes.map { 1 / Float(max($0, 1)).squareRoot() }
    }

    /// The relative margin for Float rounding in the bound's G-term sums (see above).
    var roundingMargin: Float { min(1, max(3e-5, 2 * Float(groups) / Float(1 << 24))) }

    /// P x for the `count` rows of D bytes in `storage`.
    func project(_ storage: PixelStorage, count: Int, dimension d: Int, threads: Int? = nil) -> (vectors: [Float], norms: [Float]) {
        withExtendedLifetime(storage) {
            guard let start = storage.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return ([], []) }
            return project(start, count: count, dimension: d, threads: threads)
        }
    }

    /// P x for `count` rows of D bytes: count×G Floats, and ‖P x‖² per row.
    func project(_ bytes: UnsafePointer<UInt8>, count: Int, dimension d: Int,
                 threads: Int? = nil) -> (vectors: [Float], norms: [Float]) {
        let g = groups
        var vectors = [Float](repeating: 0, count: count * g), norms = [Float](repeating: 0, count: count)
        vectors.withUnsafeMutableBufferPointer { out in
            norms.withUnsafeMutableBufferPointer { normOut in
                groupOf.withUnsafeBufferPointer { groupOf in
                    nonisolated(unsafe) let out = out, normOut = normOut
                    Parallel.forEachChunk(count: count, threads: threads, minimumChunk: 256) { rows in
                        var sums = [UInt32](repeating: 0, count: g)
                        for row in rows {
                            for i in 0..<g { sums[i] = 0 }
                            let source = bytes + row * d
                            for t in 0..<d { sums[Int(groupOf[t])] &+= UInt32(source[t]) }
                            var norm: Float = 0
                            for i in 0..<g {
                                let value = Float(sums[i]) * scales[i]
                                out[row * g + i] = value
                                norm += value * value
                            }
                            normOut[row] = norm
                        }
                    }
                }
            }
        }
        return (vectors, norms)
    }
}

extension ByteIndex {
    /// How the L2 search finds its candidates (benchmarks compare the two).
    public enum L2Search: String, Sendable, CaseIterable {
        /// Pooled lower bound by GEMM, exact integer distances for the survivors (the default).
        case bounded
        /// Full Float GEMM over all D, top-(k + slack), exact integer re-rank.
        case gemm
    }

    /// Query tile of the bound GEMM per worker task; the stored block is `l2BaseBlock` rows.
    static let boundQueryTile = 256
    /// Exact squared distances are `Distance` (UInt32 while D·255² fits, else UInt64).
    func searchL2Bounded<Distance: FixedWidthInteger & UnsignedInteger>(
        queries: UnsafePointer<UInt8>, n: Int, base: UnsafePointer<UInt8>, k: Int, threads: Int?, bound: PooledBound,
        stored: (vectors: [Float], norms: [Float]), statistics: L2SearchStatistics?, distance: Distance.Type
    ) -> KeyedNeighbors {
        let d = dimension, m = count, g = bound.groups
        let block = ByteIndex.l2BaseBlock, tile = ByteIndex.boundQueryTile
        let projected = bound.project(queries, count: n, dimension: d, threads: threads)
        var selection = TopKTable<Distance>(queries: n, width: k, worst: .max)
        let tileCount = (n + tile - 1) / tile
        let margin = 1 - bound.roundingMargin
        var refined = [Int](repeating: 0, count: tileCount)
        selection.withPointers { table in
            refined.withUnsafeMutableBufferPointer { refinedCounts in
                nonisolated(unsafe) let refinedCounts = refinedCounts
                projected.vectors.withUnsafeBufferPointer { pq in
                    stored.vectors.withUnsafeBufferPointer { pv in
                        guard let pq = pq.baseAddress, let pv = pv.baseAddress else { return }
                        BLAS.withThreadCount(1) {
                            for blockStart in stride(from: 0, to: m, by: block) {
                                let nb = min(block, m - blockStart)
                                Parallel.forEachChunk(count: tileCount, threads: threads) { tiles in
                                    let products = UnsafeMutablePointer<Float>.allocate(capacity: tile * nb)
                                    defer { products.deallocate() }
                                    for tileIndex in tiles {
                                        let q0 = tileIndex * tile, nq = min(tile, n - q0)
                                        BLAS.gemm(transposeB: true, m: nq, n: nb, k: g, alpha: -2,
                                                  a: pq + q0 * g, b: pv + blockStart * g, beta: 0, c: products)
                                        var exactCount = 0
                                        for i in 0..<nq {
                                            let row = q0 + i, lower = products + i * nb
                                            let queryNorm = projected.norms[row], query = queries + row * d
                                            var worst = table.worst(row: row)
                                            var limit = worst == .max ? Float.infinity : Float(worst).nextUp
                                            for j in 0..<nb {
                                                let norms = queryNorm + stored.norms[blockStart + j]
                                                guard lower[j] + norms * margin < limit else { continue }
                                                let exact = Distance(percept_l2sq_u8(query, base + (blockStart + j) * d, d))
                                                exactCount += 1
                                                guard exact < worst else { continue }
                                                table.offer(row: row, distance: exact, index: blockStart + j)
                                                worst = table.worst(row: row)
                                                limit = worst == .max ? Float.infinity : Float(worst).nextUp
                                            }
                                        }
                                        refinedCounts[tileIndex] += exactCount
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        statistics?.record(exactDistances: refined.reduce(0, +), pairs: n * m)
        return selection.keyedNeighbors(k: k) { UInt64($0) }
    }
}

/// How much of the exact work the bound saved in the last search (for benchmarks).
public final class L2SearchStatistics: @unchecked Sendable {
    public private(set) var exactDistances = 0
    public private(set) var pairs = 0
    public init() {}
    func record(exactDistances: Int, pairs: Int) {
        self.exactDistances += exactDistances
        self.pairs += pairs
    }
    /// The share of (query, stored row) pairs whose exact distance was computed.
    public var exactFraction: Double { pairs == 0 ? 0 : Double(exactDistances) / Double(pairs) }
}
