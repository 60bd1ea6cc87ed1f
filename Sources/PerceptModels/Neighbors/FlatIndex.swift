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
    private let searched: Tensor
    /// ‖v‖² per stored vector (L2 only).
    private let squaredNorms: [Float]

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

    /// The `k` nearest stored vectors of each row of `queries` (N×D), nearest first; equal
    /// distances go to the lower stored index.
    public func search(_ queries: Tensor, k: Int, threads: Int? = nil) throws -> NeighborList {
        try validate(queries)
        guard k >= 1, k <= count else {
            throw PerceptError.invalidArgument("k = \(k) neighbours requested from an index of \(count) vectors; use 1…\(count)")
        }
        let n = queries.rows
        var indices = [Int32](repeating: 0, count: n * k)
        var distances = [Float](repeating: 0, count: n * k)
        indices.withUnsafeMutableBufferPointer { indexBuffer in
            distances.withUnsafeMutableBufferPointer { distanceBuffer in
                nonisolated(unsafe) let outIndices = indexBuffer, outDistances = distanceBuffer
                forEachTile(of: queries, threads: threads) { block, tileStart, tileCount, tile, selectors in
                    for i in 0..<block.count {
                        for j in 0..<tileCount {
                            selectors[i].offer(distance: tile[i * tileCount + j], index: Int32(tileStart + j))
                        }
                    }
                } finish: { block, selectors in
                    for (i, query) in block.enumerated() {
                        for r in 0..<k {
                            outIndices[query * k + r] = selectors[i].indices[r]
                            let distance = selectors[i].distances[r]
                            outDistances[query * k + r] = finalDistance(distance)
                        }
                    }
                } makeSelector: { TopKSelector(k: k) }
            }
        }
        return NeighborList(k: k, indices: indices, distances: distances)
    }

    /// Every distance from each query to each stored vector: N×M. Meant for small M (class
    /// means); for large M use `search`, which never holds the whole matrix.
    public func distances(to queries: Tensor, threads: Int? = nil) throws -> Tensor {
        try validate(queries)
        let n = queries.rows, m = count
        var result = [Float](repeating: 0, count: n * m)
        result.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let output = buffer
            forEachTile(of: queries, threads: threads) { block, tileStart, tileCount, tile, _ in
                for (i, query) in block.enumerated() {
                    for j in 0..<tileCount {
                        let distance = tile[i * tileCount + j]
                        output[query * m + tileStart + j] = finalDistance(distance)
                    }
                }
            } finish: { _, _ in } makeSelector: { TopKSelector(k: 1) }
        }
        return Tensor(shape: [n, m], scalars: result)
    }

    /// Tile values are squared for L2 and may round just below 0 (L2) or outside [0, 2] (cosine).
    private func finalDistance(_ value: Float) -> Float {
        switch metric {
        case .l1: value
        case .l2: max(value, 0).squareRoot()
        case .cosine: min(max(value, 0), 2)
        }
    }

    private func validate(_ queries: Tensor) throws {
        guard count > 0 else { throw PerceptError.invalidData("the index holds no vectors to search") }
        guard queries.columns == dimension else {
            throw PerceptError.invalidData(
                "queries have \(queries.columns) features but the index was built on \(dimension) (different image sizes?)")
        }
        try FlatIndex.requireFinite(queries, what: "queries")
    }

    /// Walks blocks of queries (in parallel) and tiles of stored vectors, handing `visit` each
    /// block × tile of distances (squared for L2) and the block's selectors, then `finish`.
    private func forEachTile(
        of queries: Tensor, threads: Int?,
        _ visit: (_ block: Range<Int>, _ tileStart: Int, _ tileCount: Int, _ tile: UnsafeMutablePointer<Float>,
                  _ selectors: inout [TopKSelector]) -> Void,
        finish: (_ block: Range<Int>, _ selectors: [TopKSelector]) -> Void,
        makeSelector: () -> TopKSelector
    ) {
        let n = queries.rows, m = count, d = dimension
        let blockSize = FlatIndex.queryBlock, tileSize = FlatIndex.vectorTile
        let blockCount = (n + blockSize - 1) / blockSize
        let queryNorms = metric == .l2 ? FlatIndex.squaredNorms(of: queries) : []
        let queries = metric == .cosine ? FlatIndex.unitRows(queries) : queries
        queries.scalars.withUnsafeBufferPointer { queryBuffer in
            searched.scalars.withUnsafeBufferPointer { vectorBuffer in
                guard let q = queryBuffer.baseAddress, let v = vectorBuffer.baseAddress else { return }
                Parallel.forEachChunk(count: blockCount, threads: threads) { blocks in
                    let tile = UnsafeMutablePointer<Float>.allocate(capacity: blockSize * tileSize)
                    defer { tile.deallocate() }
                    for blockIndex in blocks {
                        let block = (blockIndex * blockSize)..<min(n, (blockIndex + 1) * blockSize)
                        var selectors = (0..<block.count).map { _ in makeSelector() }
                        for tileStart in stride(from: 0, to: m, by: tileSize) {
                            let tileCount = min(tileSize, m - tileStart)
                            let blockQueries = q + block.lowerBound * d, tileVectors = v + tileStart * d
                            switch metric {
                            case .l2:
                                BLAS.gemm(transposeB: true, m: block.count, n: tileCount, k: d, alpha: -2,
                                          a: blockQueries, b: tileVectors, beta: 0, c: tile)
                                for i in 0..<block.count {
                                    let queryNorm = queryNorms[block.lowerBound + i]
                                    for j in 0..<tileCount {
                                        tile[i * tileCount + j] += queryNorm + squaredNorms[tileStart + j]
                                    }
                                }
                            case .cosine:
                                BLAS.gemm(transposeB: true, m: block.count, n: tileCount, k: d, alpha: -1,
                                          a: blockQueries, b: tileVectors, beta: 0, c: tile)
                                for i in 0..<(block.count * tileCount) { tile[i] += 1 }
                            case .l1:
                                for i in 0..<block.count {
                                    for j in 0..<tileCount {
                                        tile[i * tileCount + j] = FlatIndex.l1Distance(blockQueries + i * d, tileVectors + j * d, d)
                                    }
                                }
                            }
                            visit(block, tileStart, tileCount, tile, &selectors)
                        }
                        finish(block, selectors)
                    }
                }
            }
        }
    }

    /// Σ |aᵢ − bᵢ| with four independent partial sums.
    static func l1Distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ d: Int) -> Float {
        var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
        var i = 0
        while i + 4 <= d {
            s0 += abs(a[i] - b[i])
            s1 += abs(a[i + 1] - b[i + 1])
            s2 += abs(a[i + 2] - b[i + 2])
            s3 += abs(a[i + 3] - b[i + 3])
            i += 4
        }
        while i < d {
            s0 += abs(a[i] - b[i])
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
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
