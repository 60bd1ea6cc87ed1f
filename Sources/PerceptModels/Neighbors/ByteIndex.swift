import PerceptCore
import PerceptData

/// Exact brute-force nearest-neighbour search over byte rows (raw pixels), without a Float copy
/// of the stored rows and without the N×M distance matrix.
///
/// Shape letters: N queries, M stored rows, D bytes a row, K neighbours.
///
/// - L1: integer sums of absolute differences from the AVX2 kernel in `CKernels`
///   (`percept_l1_u8_block`), tile by tile, with each query's top-K kept as the tiles pass.
///   Exact, ties included, for rows of any length: rows over 16,843,009 bytes (where a UInt32 sum
///   could overflow) are summed in chunks into UInt64.
/// - L2 (default, `.bounded`, ByteIndex+BoundedL2.swift): a lower bound for every pair by GEMM on
///   4×4-cell pooled images (1/16 of the flops), exact integer squared distances only for the
///   pairs the bound cannot rule out (~6% on CIFAR-10). Exact, ties included. 10,000 × 50,000
///   CIFAR-10 images in 5.6 s on 2 loaded cores, where faiss IndexFlatL2 took 61 s (RESULTS.md).
/// - L2 (`.gemm`): ‖q‖² − 2 q·v + ‖v‖² with q·v from Float GEMM on converted tiles, top-(K + slack)
///   kept per query, then those candidates re-ranked by exact integer squared distances. The
///   result is exact unless more than `rerankSlack` stored rows fall within Float rounding
///   (about 1e-6·(‖q‖² + ‖v‖²)) of the K-th distance. The numbers below are this path's.
///
/// Measured here (AMD EPYC, 2 cores shared with other jobs; 10,000 CIFAR-10 queries × 50,000
/// images, k = 20): L1 9.3–9.6 s (faiss IndexFlat METRIC_L1: 19.5–43 s per 1,000 queries);
/// L2 18.1–19.0 s, 162–169 GFLOP/s, in quiet spells (faiss IndexFlatL2 17.9–18.4 s, not counting
/// its 2.1 s conversion to Float); 21–25 s when neighbours were busy.
///
/// Rows of any length are searched exactly (camera photos of 1 MB and more): L2 distances are
/// UInt64 where a UInt32 could overflow. The hot loops live in Kernels/ByteIndex+Search.swift
/// and Kernels/ByteIndex+BoundedL2.swift.
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
    let storage: PixelStorage
    /// ‖v‖² per stored row (L2 only), exact as integers and then rounded to Float.
    let squaredNorms: [Float]
    /// The pooled lower bound of the L2 search, and the stored rows projected by it (L2 only).
    let bound: PooledBound?
    let pooled: (vectors: [Float], norms: [Float])

    /// How the L2 search finds candidates (`.bounded` unless a benchmark compares).
    public var l2Search: L2Search = .bounded
    /// When set, L2 searches add how many exact distances they computed (benchmarks).
    public var statistics: L2SearchStatistics?

    /// The longest row whose L1 sum always fits a UInt32 (16,843,009 · 255 = 2³² − 1) is over
    /// this; longer rows are summed a chunk of this many bytes at a time into UInt64.
    static let l1ChunkBytesForLongRows = 16 << 20
    /// The longest row whose squared L2 distance always fits a UInt32 (66,051 · 255² < 2³²).
    static let longestRowForUInt32SquaredDistance = 66_051
    /// Rows longer than this take the chunked L1 path (tests lower it to reach that path cheaply).
    var l1ChunkBytes = ByteIndex.l1ChunkBytesForLongRows

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
        try self.init(storage: dataset.pixels, count: dataset.count, dimension: dataset.imageByteCount, metric: metric,
                      layout: (dataset.height, dataset.width, dataset.channels))
    }

    /// An index over `rows` (M×D bytes, row-major).
    public init(rows: [UInt8], dimension: Int, metric: DistanceMetric) throws {
        guard dimension > 0, !rows.isEmpty, rows.count % dimension == 0 else {
            throw PerceptError.invalidData("\(rows.count) bytes do not make rows of \(dimension) bytes")
        }
        try self.init(storage: PixelStorage(copying: rows), count: rows.count / dimension, dimension: dimension,
                      metric: metric, layout: nil)
    }

    /// An index over rows that were already prepared (a shard of another index: ByteIndex+Shard.swift).
    init(storage: PixelStorage, count: Int, dimension: Int, metric: DistanceMetric, squaredNorms: [Float],
         bound: PooledBound?, pooled: (vectors: [Float], norms: [Float])) {
        self.metric = metric
        self.count = count
        self.dimension = dimension
        self.storage = storage
        self.squaredNorms = squaredNorms
        self.bound = bound
        self.pooled = pooled
    }

    private init(storage: PixelStorage, count: Int, dimension: Int, metric: DistanceMetric,
                 layout: (height: Int, width: Int, channels: Int)?) throws {
        guard count > 0, dimension > 0, storage.count >= count * dimension else {
            throw PerceptError.invalidData("pixel storage of \(storage.count) bytes cannot hold \(count) rows of \(dimension)")
        }
        guard metric != .cosine else {
            throw PerceptError.unsupported(nil, "ByteIndex searches L1 and L2; search cosine with FlatIndex on Float features")
        }
        self.metric = metric
        self.count = count
        self.dimension = dimension
        self.storage = storage
        if metric == .l2 {
            squaredNorms = ByteIndex.squaredNorms(of: storage, count: count, dimension: dimension)
            let bound = PooledBound(dimension: dimension, layout: layout)
            self.bound = bound
            pooled = bound.project(storage, count: count, dimension: dimension)
        } else {
            squaredNorms = []
            bound = nil
            pooled = ([], [])
        }
    }
}
