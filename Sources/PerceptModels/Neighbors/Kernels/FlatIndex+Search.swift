import PerceptCore

/// The search loops of `FlatIndex`: blocks of queries against tiles of stored vectors, one BLAS
/// GEMM a tile for L2 and cosine, a four-sum loop for L1 (see `FlatIndex` for the numbers).
extension FlatIndex {
    /// The `k` nearest stored vectors of each row of `queries` (N×D), nearest first; equal
    /// distances go to the lower stored index.
    public func search(_ queries: Tensor, k: Int, threads: Int? = nil) throws -> NeighborList {
        try keyedSearch(queries, k: k, threads: threads).neighborList { finalDistance(FlatIndex.value(ofKey: $0)) }
    }

    /// The search with each distance as the loops compared it (squared for L2, before clamping)
    /// in an order-keeping integer form: what sharded search merges.
    func keyedSearch(_ queries: Tensor, k: Int, threads: Int?) throws -> KeyedNeighbors {
        try validate(queries)
        guard k >= 1, k <= count else {
            throw PerceptError.invalidArgument("k = \(k) neighbours requested from an index of \(count) vectors; use 1…\(count)")
        }
        let n = queries.rows
        var indices = [Int32](repeating: 0, count: n * k)
        var keys = [UInt64](repeating: 0, count: n * k)
        indices.withUnsafeMutableBufferPointer { indexBuffer in
            keys.withUnsafeMutableBufferPointer { keyBuffer in
                nonisolated(unsafe) let outIndices = indexBuffer, outKeys = keyBuffer
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
                            outKeys[query * k + r] = FlatIndex.key(of: selectors[i].distances[r])
                        }
                    }
                } makeSelector: { TopKSelector(k: k) }
            }
        }
        return KeyedNeighbors(k: k, keys: keys, indices: indices)
    }

    /// A Float as an integer in the same order (finite values; −0 and +0 both as +0).
    static func key(of value: Float) -> UInt64 {
        let bits = (value == 0 ? 0 : value).bitPattern
        return UInt64(bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000)
    }

    /// The Float whose `key(of:)` is `key`.
    static func value(ofKey key: UInt64) -> Float {
        let bits = UInt32(truncatingIfNeeded: key)
        return Float(bitPattern: bits & 0x8000_0000 != 0 ? bits & 0x7FFF_FFFF : ~bits)
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

    /// Walks blocks of queries (in parallel) and tiles of stored vectors, handing `visit` each
    /// block × tile of distances (squared for L2) and the block's selectors, then `finish`.
    func forEachTile(
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
}
