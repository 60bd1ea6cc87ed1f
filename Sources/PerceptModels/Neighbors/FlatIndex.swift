import PerceptCore

/// Brute-force nearest-neighbour search over M stored vectors of dimension D (a "flat" index:
/// no structure, every query compared with every vector).
///
/// Queries are processed in blocks of `queryBlock` against tiles of `vectorTile` stored vectors,
/// so only a queryBlock×vectorTile slice of the N×M distance matrix exists at a time, and
/// blocks run in parallel on all cores. Each query's result depends only on its own block, so
/// results are identical for any thread count.
///
/// - L2 uses ‖q − v‖² = ‖q‖² − 2 q·v + ‖v‖², with q·v for a whole tile from one BLAS GEMM.
///   Cancellation makes the squared distance accurate to about 1e-6·(‖q‖² + ‖v‖²); the reference
///   twin `referenceNearestNeighbors` is exact in comparison, and tests compare the two.
/// - Cosine stores unit-length copies of the vectors (zero vectors stay zero) and ranks by
///   1 − q̂·v̂, again one GEMM a tile.
/// - L1 is a plain blocked loop (four partial sums, so the compiler can overlap them); with
///   integer-valued features below 2²⁴ in total (raw pixels) every sum is exact.
public struct FlatIndex: Sendable {
    public let metric: DistanceMetric
    /// M×D stored vectors.
    public let vectors: Tensor
    /// What the loops compare: `vectors`, or their unit-length copies for cosine.
    let searched: Tensor
    /// ‖v‖² per stored vector (L2 only).
    let squaredNorms: [Float]

    static let queryBlock = 64
    static let vectorTile = 512

    /// - Throws: `.invalidData` if a vector holds NaN or ±∞ (it would compare as nothing).
    public init(vectors: Tensor, metric: DistanceMetric) throws {
        try FlatIndex.requireFinite(vectors, what: "stored vectors")
        self.metric = metric
        self.vectors = vectors
        searched = metric == .cosine ? FlatIndex.unitRows(vectors) : vectors
        squaredNorms = metric == .l2 ? FlatIndex.squaredNorms(of: vectors) : []
    }

    /// An index over vectors that were already prepared (a shard of another index).
    init(vectors: Tensor, searched: Tensor, squaredNorms: [Float], metric: DistanceMetric) {
        self.metric = metric
        self.vectors = vectors
        self.searched = searched
        self.squaredNorms = squaredNorms
    }

    /// The stored vectors `rows` as an index of their own (numbered from 0): one rank's share of a
    /// sharded search. Copies those rows; distances are computed exactly as the whole index does.
    func shard(_ rows: Range<Int>) -> FlatIndex {
        let d = dimension
        func slice(_ matrix: Tensor) -> Tensor {
            Tensor(shape: [rows.count, d], scalars: Array(matrix.scalars[(rows.lowerBound * d)..<(rows.upperBound * d)]))
        }
        return FlatIndex(vectors: slice(vectors), searched: metric == .cosine ? slice(searched) : slice(vectors),
                         squaredNorms: metric == .l2 ? Array(squaredNorms[rows]) : [], metric: metric)
    }

    /// Throws naming the first row and column of `matrix` that is NaN or infinite.
    static func requireFinite(_ matrix: Tensor, what: String) throws {
        guard let bad = matrix.scalars.firstIndex(where: { !$0.isFinite }) else { return }
        let columns = max(1, matrix.columns)
        throw PerceptError.invalidData(
            "\(what): row \(bad / columns), feature \(bad % columns) is \(matrix.scalars[bad]); features must be finite numbers")
    }

    /// Each row divided by its Euclidean length; zero rows stay zero.
    static func unitRows(_ matrix: Tensor) -> Tensor {
        var result = matrix
        let d = matrix.columns
        for (row, squared) in squaredNorms(of: matrix).enumerated() where squared > 0 {
            let scale = 1 / squared.squareRoot()
            for j in (row * d)..<((row + 1) * d) { result.scalars[j] *= scale }
        }
        return result
    }

    /// M, the number of stored vectors.
    public var count: Int { vectors.rows }
    /// D, the dimension of every vector.
    public var dimension: Int { vectors.columns }

    /// Tile values are squared for L2 and may round just below 0 (L2) or outside [0, 2] (cosine).
    func finalDistance(_ value: Float) -> Float {
        switch metric {
        case .l1: value
        case .l2: max(value, 0).squareRoot()
        case .cosine: min(max(value, 0), 2)
        }
    }

    func validate(_ queries: Tensor) throws {
        guard count > 0 else { throw PerceptError.invalidData("the index holds no vectors to search") }
        guard queries.columns == dimension else {
            throw PerceptError.invalidData(
                "queries have \(queries.columns) features but the index was built on \(dimension) (different image sizes?)")
        }
        try FlatIndex.requireFinite(queries, what: "queries")
    }

    static func squaredNorms(of matrix: Tensor) -> [Float] {
        let d = matrix.columns
        return (0..<matrix.rows).map { row in
            var sum: Float = 0
            for x in matrix.scalars[(row * d)..<((row + 1) * d)] { sum += x * x }
            return sum
        }
    }
}

/// Keeps the k smallest (distance, index) pairs offered so far, sorted ascending.
///
/// Candidates arrive in increasing index order, so a candidate equal to the current k-th
/// distance never displaces it: ties resolve to the lower index without comparing indices.
struct TopKSelector {
    let k: Int
    private(set) var distances: [Float] = []
    private(set) var indices: [Int32] = []

    init(k: Int) {
        self.k = k
        distances.reserveCapacity(k)
        indices.reserveCapacity(k)
    }

    mutating func offer(distance: Float, index: Int32) {
        if distances.count == k {
            guard let worst = distances.last, distance < worst else { return }
            distances.removeLast()
            indices.removeLast()
        }
        // Insert after every entry ≤ distance (keeps earlier indices first among equals).
        var position = distances.count
        while position > 0 && distances[position - 1] > distance { position -= 1 }
        distances.insert(distance, at: position)
        indices.insert(index, at: position)
    }
}
