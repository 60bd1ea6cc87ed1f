import CKernels
import PerceptCore
import PerceptData

/// The search loops of `ByteIndex` (see there for what each metric does and how fast it runs).
extension ByteIndex {
    /// The `k` nearest stored rows of each image of `queries`, nearest first; equal distances go
    /// to the lower stored index. Distances are in byte units (Euclidean, not squared, for L2).
    public func search(_ queries: Dataset, k: Int, threads: Int? = nil) throws -> NeighborList {
        guard queries.imageByteCount == dimension else {
            throw PerceptError.invalidData(
                "queries have \(queries.imageByteCount) bytes an image but the index was built on \(dimension) (different image sizes?)")
        }
        return try queries.withPixelBytes { bytes in
            try keyedSearch(bytes: bytes, queryCount: queries.count, k: k, threads: threads).neighborList(distance: distance(forKey:))
        }
    }

    /// The same for N×D query bytes, row-major.
    public func search(rows: [UInt8], k: Int, threads: Int? = nil) throws -> NeighborList {
        guard rows.count % dimension == 0 else {
            throw PerceptError.invalidData("\(rows.count) query bytes do not make rows of \(dimension) bytes")
        }
        return try rows.withUnsafeBytes {
            try keyedSearch(bytes: $0, queryCount: rows.count / dimension, k: k, threads: threads).neighborList(distance: distance(forKey:))
        }
    }

    /// The distance `search` reports for an exact integer key: the L1 sum, or the square root of
    /// the squared L2 distance (rounded to Float first, as the search always has).
    func distance(forKey key: UInt64) -> Float {
        metric == .l1 ? Float(key) : Float(key).squareRoot()
    }

    /// The search with exact integer distances (L1 sums, squared L2) as keys: the order the results
    /// are in, which rounding to Float would blur. Sharded search merges these.
    func keyedSearch(bytes: UnsafeRawBufferPointer, queryCount n: Int, k: Int, threads: Int?) throws -> KeyedNeighbors {
        guard k >= 1, k <= count else {
            throw PerceptError.invalidArgument("k = \(k) neighbours requested from an index of \(count) vectors; use 1…\(count)")
        }
        guard n > 0, let queries = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return KeyedNeighbors(k: k, keys: [], indices: [])
        }
        return withExtendedLifetime(storage) {
            guard let base = storage.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
                return KeyedNeighbors(k: k, keys: [], indices: [])
            }
            switch metric {
            case .l1 where dimension <= l1ChunkBytes:
                return searchL1(queries: queries, n: n, base: base, k: k, threads: threads)
            case .l1:
                return searchL1LongRows(queries: queries, n: n, base: base, k: k, threads: threads)
            case .l2, .cosine:
                guard l2Search == .bounded, let bound else {
                    return searchL2(queries: queries, n: n, base: base, k: k, threads: threads)
                }
                // Squared distances reach D·255²: UInt32 while that fits (D ≤ 66,052), else UInt64.
                if dimension <= ByteIndex.longestRowForUInt32SquaredDistance {
                    return searchL2Bounded(queries: queries, n: n, base: base, k: k, threads: threads, bound: bound,
                                           stored: pooled, statistics: statistics, distance: UInt32.self)
                }
                return searchL2Bounded(queries: queries, n: n, base: base, k: k, threads: threads, bound: bound,
                                       stored: pooled, statistics: statistics, distance: UInt64.self)
            }
        }
    }

    // MARK: - Hot loops

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
                          threads: Int?) -> KeyedNeighbors {
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
        return selection.keyedNeighbors(k: k) { UInt64($0) }
    }

    private func searchL2(queries: UnsafePointer<UInt8>, n: Int, base: UnsafePointer<UInt8>, k: Int,
                          threads: Int?) -> KeyedNeighbors {
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
        return selection.keyedNeighbors(k: k) { row, index in
            percept_l2sq_u8(queries + row * d, base + Int(index) * d, d)
        }
    }

    /// L1 for rows longer than `l1ChunkBytes`: the same tiles, each row pair's sum of absolute
    /// differences taken chunk by chunk (the UInt32 kernel on strided rows) into UInt64 sums.
    private func searchL1LongRows(queries: UnsafePointer<UInt8>, n: Int, base: UnsafePointer<UInt8>, k: Int,
                                  threads: Int?) -> KeyedNeighbors {
        let d = dimension, m = count, chunk = l1ChunkBytes
        let queryTile = 4, baseTile = 4  // long rows: a few at a time already fill the caches
        var selection = TopKTable<UInt64>(queries: n, width: k, worst: .max)
        let tileCount = (n + queryTile - 1) / queryTile
        selection.withPointers { table in
            Parallel.forEachChunk(count: tileCount, threads: threads) { tiles in
                // Per tile pair: a chunk's UInt32 sums, added into the pair's UInt64 sums.
                var partial = [UInt32](repeating: 0, count: queryTile * baseTile)
                var sums = [UInt64](repeating: 0, count: queryTile * baseTile)
                for (q0, start) in tiles.flatMap({ tile in stride(from: 0, to: m, by: baseTile).map { (tile * queryTile, $0) } }) {
                    let nq = min(queryTile, n - q0), nb = min(baseTile, m - start)
                    for i in sums.indices { sums[i] = 0 }
                    for offset in stride(from: 0, to: d, by: chunk) {
                        percept_l1_u8_block_strided(queries + q0 * d + offset, d, nq, base + start * d + offset, d, nb,
                                                    min(chunk, d - offset), &partial)
                        for i in 0..<(nq * nb) { sums[i] += UInt64(partial[i]) }
                    }
                    sums.withUnsafeBufferPointer { sums in
                        for i in 0..<nq {
                            table.offer(row: q0 + i, distances: sums.baseAddress! + i * nb, count: nb, firstIndex: start)
                        }
                    }
                }
            }
        }
        return selection.keyedNeighbors(k: k) { UInt64($0) }
    }

    /// ‖v‖² of each of `count` rows of `storage`, exact as integers and then rounded to Float.
    static func squaredNorms(of storage: PixelStorage, count: Int, dimension d: Int) -> [Float] {
        withExtendedLifetime(storage) { squaredNorms(storage.bytes, count: count, dimension: d) }
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
