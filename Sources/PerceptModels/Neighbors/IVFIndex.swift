import CKernels
import PerceptCore
import PerceptData

/// Approximate nearest-neighbour search by an inverted file (IVF): k-means cuts the stored rows
/// into `nlist` lists; a query scans only the `nprobe` lists whose centres are nearest to it.
///
/// Shape letters: N queries, M stored rows, D bytes a row, G pooled dimension, K neighbours.
///
/// - The coarse quantiser clusters the pooled images of `PooledBound` (4×4-cell sums, G = D/16),
///   16× cheaper than clustering pixels, and sends each query to the lists of its nearest centres.
/// - Stored rows are kept list by list, so a list is one contiguous block of bytes.
/// - Queries are grouped by probed list, so a list is scanned for all its queries at once: L2 by
///   one Float GEMM a tile (top k + slack kept, then re-ranked by exact integer distances, as
///   `ByteIndex`'s `.gemm` search), L1 by the AVX2 SAD tiles.
/// - Within the probed lists the result is exact (integer distances, ties to the lower index);
///   rows in lists not probed are missed — that is the approximation, measured by `recall`.
///   With `nprobe == nlist` the search is exact. A query whose probed lists hold fewer than K rows
///   gets index −1 and distance +∞ in the empty places.
/// - Workers own disjoint query ranges, so results do not depend on the thread count.
public struct IVFIndex: Sendable {
    public let metric: DistanceMetric
    /// M, the number of stored rows.
    public let count: Int
    /// D, the bytes in each row.
    public let dimension: Int
    /// Lists scanned per query when `search` is not told otherwise.
    public var nprobe: Int
    let quantizer: KMeans
    let bound: PooledBound
    /// List `l` holds stored positions `listStarts[l]..<listStarts[l + 1]`.
    let listStarts: [Int]
    /// The original index of each stored position, and the position of each original index.
    let ids: [Int32]
    let position: [Int32]
    /// The rows in list order, M×D.
    let rows: PixelStorage
    /// ‖v‖² of each row in list order (L2).
    let rowNorms: [Float]

    /// `nlist` lists over the images of `dataset`.
    ///
    /// - Parameters:
    ///   - trainingSize: vectors the quantiser is trained on (a seeded sample; default 64·nlist).
    ///   - seed: the sample and the initial centres.
    public init(dataset: Dataset, metric: DistanceMetric, nlist: Int = 256, nprobe: Int = 8,
                trainingSize: Int? = nil, iterations: Int = 20, seed: UInt64 = 1, threads: Int? = nil) throws {
        guard !dataset.isEmpty else { throw PerceptError.invalidData("the index holds no vectors to search") }
        try self.init(storage: dataset.pixels, count: dataset.count, dimension: dataset.imageByteCount,
                      layout: (dataset.height, dataset.width, dataset.channels), metric: metric, nlist: nlist,
                      nprobe: nprobe, trainingSize: trainingSize, iterations: iterations, seed: seed, threads: threads)
    }

    /// The same over M×D bytes, row-major.
    public init(rows: [UInt8], dimension: Int, metric: DistanceMetric, nlist: Int = 256, nprobe: Int = 8,
                trainingSize: Int? = nil, iterations: Int = 20, seed: UInt64 = 1, threads: Int? = nil) throws {
        guard dimension > 0, !rows.isEmpty, rows.count % dimension == 0 else {
            throw PerceptError.invalidData("\(rows.count) bytes do not make rows of \(dimension) bytes")
        }
        try self.init(storage: PixelStorage(copying: rows), count: rows.count / dimension, dimension: dimension,
                      layout: nil, metric: metric, nlist: nlist, nprobe: nprobe, trainingSize: trainingSize,
                      iterations: iterations, seed: seed, threads: threads)
    }

    private init(storage: PixelStorage, count m: Int, dimension d: Int, layout: (height: Int, width: Int, channels: Int)?,
                 metric: DistanceMetric, nlist: Int, nprobe: Int, trainingSize: Int?, iterations: Int, seed: UInt64,
                 threads: Int?) throws {
        guard ByteIndex.supportedMetrics.contains(metric) else {
            throw PerceptError.unsupported(nil, "IVFIndex searches L1 and L2, not \(metric)")
        }
        // The L1 list scan sums a row in one UInt32 (exact to 16,843,009 bytes); the exact search has no limit.
        guard metric != .l1 || d <= ByteIndex.l1ChunkBytesForLongRows else {
            throw PerceptError.invalidArgument(
                "rows of \(d) bytes are too long for the L1 inverted-file index (at most \(ByteIndex.l1ChunkBytesForLongRows)); use exact search, which has no limit, or a smaller --size")
        }
        guard nlist >= 1, nlist <= m else {
            throw PerceptError.invalidArgument("nlist = \(nlist) lists for \(m) vectors; use 1…\(m)")
        }
        guard nprobe >= 1, nprobe <= nlist else {
            throw PerceptError.invalidArgument("nprobe = \(nprobe); use 1…\(nlist) (nlist)")
        }
        guard storage.count > 0 else { throw PerceptError.invalidData("the index holds no vectors to search") }
        let bound = PooledBound(dimension: d, layout: layout)
        let g = bound.groups
        let projected = bound.project(storage, count: m, dimension: d, threads: threads)
        // Train on a seeded sample, then assign every row.
        let sampleSize = min(m, max(nlist, trainingSize ?? 64 * nlist))
        var random = SeededRandom(seed: seed &+ 0x5EED)
        var order = Array(0..<m)
        for i in 0..<sampleSize { order.swapAt(i, i + Int(random.next() % UInt64(m - i))) }
        let sample = order.prefix(sampleSize).sorted().flatMap { projected.vectors[($0 * g)..<(($0 + 1) * g)] }
        let quantizer = try KMeans(vectors: sample, dimension: g, clusters: nlist, iterations: iterations, seed: seed,
                                   threads: threads)
        let lists = quantizer.assign(projected.vectors, threads: threads)
        // Counting sort by list; within a list, original order.
        var starts = [Int](repeating: 0, count: nlist + 1)
        for list in lists { starts[Int(list) + 1] += 1 }
        for l in 0..<nlist { starts[l + 1] += starts[l] }
        var next = starts, ids = [Int32](repeating: 0, count: m)
        for (i, list) in lists.enumerated() {
            ids[next[Int(list)]] = Int32(i)
            next[Int(list)] += 1
        }
        self.rows = PixelStorage(gathering: ids.map { Int($0) }, from: storage, rowBytes: d)
        self.metric = metric
        self.count = m
        self.dimension = d
        self.nprobe = nprobe
        self.quantizer = quantizer
        self.bound = bound
        self.listStarts = starts
        self.ids = ids
        var position = [Int32](repeating: 0, count: m)
        for (p, id) in ids.enumerated() { position[Int(id)] = Int32(p) }
        self.position = position
        self.rowNorms = metric == .l2
            ? ByteIndex.squaredNorms(of: rows, count: m, dimension: d) : []
    }

    /// The number of lists.
    public var nlist: Int { quantizer.clusters }
    /// Rows per list.
    public var listSizes: [Int] { (0..<nlist).map { listStarts[$0 + 1] - listStarts[$0] } }

}
