import CKernels
import PerceptCore
import PerceptData

/// Exact brute-force nearest-neighbour search over byte rows (raw pixels), without a Float copy
/// of the stored rows and without the N×M distance matrix.
///
/// Shape letters: N queries, M stored rows, D bytes a row, K neighbours.
///
/// - L1: integer sums of absolute differences from the AVX2 kernel in `CKernels`
///   (`percept_l1_u8_block`), tile by tile, with each query's top-K kept as the tiles pass.
///   Exact, ties included.
/// - L2: ‖q‖² − 2 q·v + ‖v‖² with q·v from Float GEMM on converted tiles, top-(K + slack)
///   kept per query, then those candidates re-ranked by exact integer squared distances. The
///   result is exact unless more than `rerankSlack` stored rows fall within Float rounding
///   (about 1e-6·(‖q‖² + ‖v‖²)) of the K-th distance.
///
/// Measured here (AMD EPYC, 2 cores shared with other jobs; 10,000 CIFAR-10 queries × 50,000
/// images, k = 20): L1 9.3–9.6 s (faiss IndexFlat METRIC_L1: 19.5–43 s per 1,000 queries);
/// L2 18.1–19.0 s, 162–169 GFLOP/s, in quiet spells (faiss IndexFlatL2 17.9–18.4 s, not counting
/// its 2.1 s conversion to Float); 21–25 s when neighbours were busy.
///
/// Stored rows are walked in blocks that stay in the last-level cache; each block is shared by
/// all workers, who take disjoint tiles of queries. Each query's result depends only on its
/// own distances, so results are identical for any thread count.
public struct ByteIndex: Sendable {
    /// The metrics a byte index searches (cosine needs Float features: `FlatIndex`).
    public static let supportedMetrics: [DistanceMetric] = [.l1, .l2]

    public let metric: DistanceMetric
    /// M, the number of stored rows.
    public let count: Int
    /// D, the bytes in each row.
    public let dimension: Int
    private let storage: PixelStorage
    /// ‖v‖² per stored row (L2 only), exact as integers and then rounded to Float.
    private let squaredNorms: [Float]

    /// Extra candidates kept per query for the exact L2 re-ranking.
    static let rerankSlack = 8
    /// How the L2 search shares the cores with BLAS (benchmarks switch it to compare).
    public var l2Threading: L2Threading = .blasSingleThreadedPerWorker

    public enum L2Threading: String, Sendable, CaseIterable {
        /// Our workers each run single-threaded GEMMs on their own query blocks.
        case blasSingleThreadedPerWorker = "workers"
        /// One large GEMM at a time with BLAS threaded; our loop serial.
        case blasThreaded = "blas"
    }

    /// An index over the images of `dataset` (D = H·W·C), sharing its pixel storage.
    public init(dataset: Dataset, metric: DistanceMetric) throws {
        guard !dataset.isEmpty else { throw PerceptError.invalidData("the index holds no vectors to search") }
        try self.init(storage: dataset.pixels, count: dataset.count, dimension: dataset.imageByteCount, metric: metric)
    }

    /// An index over `rows` (M×D bytes, row-major).
    public init(rows: [UInt8], dimension: Int, metric: DistanceMetric) throws {
        guard dimension > 0, !rows.isEmpty, rows.count % dimension == 0 else {
            throw PerceptError.invalidData("\(rows.count) bytes do not make rows of \(dimension) bytes")
        }
        try self.init(storage: PixelStorage(copying: rows), count: rows.count / dimension, dimension: dimension,
                      metric: metric)
    }

    private init(storage: PixelStorage, count: Int, dimension: Int, metric: DistanceMetric) throws {
        guard count > 0, dimension > 0, storage.count >= count * dimension else {
            throw PerceptError.invalidData("pixel storage of \(storage.count) bytes cannot hold \(count) rows of \(dimension)")
        }
        guard metric != .cosine else {
            throw PerceptError.unsupported(nil, "ByteIndex searches L1 and L2; search cosine with FlatIndex on Float features")
        }
        guard dimension <= 65_793 else {  // 65,793 · 255² < 2³² and 65,793 · 255 < 2²⁴: sums stay exact
            throw PerceptError.invalidArgument("rows of \(dimension) bytes are too long for exact search (at most 65,793)")
        }
        self.metric = metric
        self.count = count
        self.dimension = dimension
        self.storage = storage
        squaredNorms = metric == .l2 ? ByteIndex.squaredNorms(storage.bytes, count: count, dimension: dimension) : []
    }

    /// The `k` nearest stored rows of each image of `queries`, nearest first; equal distances go
    /// to the lower stored index. Distances are in byte units (Euclidean, not squared, for L2).
    public func search(_ queries: Dataset, k: Int, threads: Int? = nil) throws -> NeighborList {
        guard queries.imageByteCount == dimension else {
            throw PerceptError.invalidData(
                "queries have \(queries.imageByteCount) bytes an image but the index was built on \(dimension) (different image sizes?)")
        }
        return try queries.withPixelBytes { bytes in
            try search(bytes: bytes, queryCount: queries.count, k: k, threads: threads)
        }
    }

    /// The same for N×D query bytes, row-major.
    public func search(rows: [UInt8], k: Int, threads: Int? = nil) throws -> NeighborList {
        guard rows.count % dimension == 0 else {
            throw PerceptError.invalidData("\(rows.count) query bytes do not make rows of \(dimension) bytes")
        }
        return try rows.withUnsafeBytes { try search(bytes: $0, queryCount: rows.count / dimension, k: k, threads: threads) }
    }

    private func search(bytes: UnsafeRawBufferPointer, queryCount n: Int, k: Int, threads: Int?) throws -> NeighborList {
        guard k >= 1, k <= count else {
            throw PerceptError.invalidArgument("k = \(k) neighbours requested from an index of \(count) vectors; use 1…\(count)")
        }
        guard n > 0, let queries = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return NeighborList(k: k, indices: [], distances: [])
        }
        return withExtendedLifetime(storage) {
            guard let base = storage.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
                return NeighborList(k: k, indices: [], distances: [])
            }
            switch metric {
            case .l1:
                return searchL1(queries: queries, n: n, base: base, k: k, threads: threads)
            case .l2, .cosine:
                return searchL2(queries: queries, n: n, base: base, k: k, threads: threads)
            }
        }
    }
}

// MARK: - Hot loops

extension ByteIndex {
    /// L1: queries a tile (96 KB at D = 3072) × stored rows a kernel call (192 KB): both in a
    /// core's 512 KB L2; stored rows a block (6 MB, shared by the workers in L3).
    static let l1QueryTile = 32, l1BaseTile = 64, baseBlock = 2048
    /// L2: stored rows converted to Float a block (24 MB at D = 3072, shared in L3), queries a
    /// GEMM per threading mode. Measured on CIFAR-10, 10,000 queries (2 shared cores, ±15%
    /// run to run): 512 × 2048 per worker 144 GFLOP/s, 256 × 2048 139, 512 × 4096 122 (the
    /// Float block outgrows L3); one threaded GEMM at a time (BLAS on both cores) was slower.
    static let l2BaseBlock = 2048
    static let l2QueryBlockPerWorker = 512, l2QueryBlockThreaded = 2048

    private func searchL1(queries: UnsafePointer<UInt8>, n: Int, base: UnsafePointer<UInt8>, k: Int,
                          threads: Int?) -> NeighborList {
        let d = dimension, m = count
        var selection = TopKTable<UInt32>(queries: n, width: k, worst: .max)
        let tileCount = (n + ByteIndex.l1QueryTile - 1) / ByteIndex.l1QueryTile
        selection.withPointers { table in
            for blockStart in stride(from: 0, to: m, by: ByteIndex.baseBlock) {
                let blockEnd = min(m, blockStart + ByteIndex.baseBlock)
                Parallel.forEachChunk(count: tileCount, threads: threads) { tiles in
                    let out = UnsafeMutablePointer<UInt32>.allocate(capacity: ByteIndex.l1QueryTile * ByteIndex.l1BaseTile)
                    defer { out.deallocate() }
                    for tile in tiles {
                        let q0 = tile * ByteIndex.l1QueryTile, nq = min(ByteIndex.l1QueryTile, n - q0)
                        for start in stride(from: blockStart, to: blockEnd, by: ByteIndex.l1BaseTile) {
                            let nb = min(ByteIndex.l1BaseTile, blockEnd - start)
                            percept_l1_u8_block(queries + q0 * d, nq, base + start * d, nb, d, out)
                            for i in 0..<nq {
                                table.offer(row: q0 + i, distances: out + i * nb, count: nb, firstIndex: start)
                            }
                        }
                    }
                }
            }
        }
        return selection.neighborList(k: k) { Float($0) }
    }

    private func searchL2(queries: UnsafePointer<UInt8>, n: Int, base: UnsafePointer<UInt8>, k: Int,
                          threads: Int?) -> NeighborList {
        let d = dimension, m = count
        let threaded = l2Threading == .blasThreaded
        let blockSize = threaded ? ByteIndex.l2QueryBlockThreaded : ByteIndex.l2QueryBlockPerWorker
        let l2Block = ByteIndex.l2BaseBlock
        let width = min(m, k + ByteIndex.rerankSlack)
        var selection = TopKTable<Float>(queries: n, width: width, worst: .infinity)
        let queryNorms = ByteIndex.squaredNorms(UnsafeRawBufferPointer(start: queries, count: n * d), count: n, dimension: d)
        let blockCount = (n + blockSize - 1) / blockSize
        let vectors = UnsafeMutablePointer<Float>.allocate(capacity: l2Block * d)
        defer { vectors.deallocate() }
        let workers = threaded ? 1 : max(1, threads ?? Parallel.defaultThreadCount)
        selection.withPointers { table in
            squaredNorms.withUnsafeBufferPointer { norms in
                BLAS.withThreadCount(threaded ? (threads ?? Parallel.defaultThreadCount) : 1) {
                    for blockStart in stride(from: 0, to: m, by: l2Block) {
                        let nb = min(l2Block, m - blockStart)
                        Parallel.forEachChunk(count: nb, threads: threads, minimumChunk: 256) { rows in
                            percept_u8_to_float(base + (blockStart + rows.lowerBound) * d, rows.count * d,
                                                vectors + rows.lowerBound * d)
                        }
                        Parallel.forEachChunk(count: blockCount, threads: workers) { blocks in
                            let queryFloats = UnsafeMutablePointer<Float>.allocate(capacity: blockSize * d)
                            let products = UnsafeMutablePointer<Float>.allocate(capacity: blockSize * nb)
                            defer { queryFloats.deallocate(); products.deallocate() }
                            for block in blocks {
                                let q0 = block * blockSize, nq = min(blockSize, n - q0)
                                percept_u8_to_float(queries + q0 * d, nq * d, queryFloats)
                                BLAS.gemm(transposeB: true, m: nq, n: nb, k: d, alpha: -2,
                                          a: queryFloats, b: vectors, beta: 0, c: products)
                                // Threaded BLAS left the cores idle for this pass: share it out.
                                Parallel.forEachChunk(count: nq, threads: threaded ? threads : 1) { rows in
                                    for i in rows {
                                        let row = products + i * nb, queryNorm = queryNorms[q0 + i]
                                        for j in 0..<nb { row[j] += queryNorm + norms[blockStart + j] }
                                        table.offer(row: q0 + i, distances: row, count: nb, firstIndex: blockStart)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Re-rank the candidates by exact integer squared distance; (distance, index) order.
        return selection.neighborList(k: k, rerank: { row, index in
            percept_l2sq_u8(queries + row * d, base + Int(index) * d, d)
        }) { Float($0).squareRoot() }
    }

    static func squaredNorms(_ bytes: UnsafeRawBufferPointer, count: Int, dimension d: Int) -> [Float] {
        guard let start = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return [] }
        let zero = [UInt8](repeating: 0, count: d)
        return zero.withUnsafeBufferPointer { zeros in
            guard let z = zeros.baseAddress else { return [] }
            return (0..<count).map { Float(percept_l2sq_u8(start + $0 * d, z, d)) }
        }
    }
}
