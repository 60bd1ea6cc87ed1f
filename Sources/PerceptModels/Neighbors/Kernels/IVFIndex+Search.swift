import CKernels
import PerceptCore
import PerceptData

/// The search of `IVFIndex`: probe the nearest lists by the pooled projection, scan them
/// (IVFIndex+Scan.swift), merge and re-rank by exact integer distance.
extension IVFIndex {
    /// The `k` nearest stored rows of each query among its `nprobe` nearest lists, nearest first.
    public func search(_ queries: Dataset, k: Int, nprobe: Int? = nil, threads: Int? = nil) throws -> NeighborList {
        guard queries.imageByteCount == dimension else {
            throw PerceptError.invalidData(
                "queries have \(queries.imageByteCount) bytes an image but the index was built on \(dimension) (different image sizes?)")
        }
        return try queries.withPixelBytes {
            try search(bytes: $0, queryCount: queries.count, k: k, nprobe: nprobe ?? self.nprobe, threads: threads)
        }
    }

    /// The same for N×D query bytes, row-major.
    public func search(rows queryRows: [UInt8], k: Int, nprobe: Int? = nil, threads: Int? = nil) throws -> NeighborList {
        guard queryRows.count % dimension == 0 else {
            throw PerceptError.invalidData("\(queryRows.count) query bytes do not make rows of \(dimension) bytes")
        }
        return try queryRows.withUnsafeBytes {
            try search(bytes: $0, queryCount: queryRows.count / dimension, k: k, nprobe: nprobe ?? self.nprobe, threads: threads)
        }
    }

    private func search(bytes: UnsafeRawBufferPointer, queryCount n: Int, k: Int, nprobe: Int,
                        threads: Int?) throws -> NeighborList {
        guard k >= 1, k <= count else {
            throw PerceptError.invalidArgument("k = \(k) neighbours requested from an index of \(count) vectors; use 1…\(count)")
        }
        guard nprobe >= 1, nprobe <= nlist else {
            throw PerceptError.invalidArgument("nprobe = \(nprobe); use 1…\(nlist) (nlist)")
        }
        guard n > 0, let queries = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return NeighborList(k: k, indices: [], distances: [])
        }
        let projected = bound.project(queries, count: n, dimension: dimension, threads: threads)
        let probes = quantizer.nearestCentroids(projected.vectors, count: n, probes: nprobe, threads: threads)
        let d = dimension
        if metric == .l1 {
            var selection = TopKTable<UInt32>(queries: n, width: k, worst: .max)
            selection.withPointers { table in
                scanAll(queries: queries, n: n, probes: probes, nprobe: nprobe, threads: threads, queryFloats: nil,
                        exact: table, float: nil)
            }
            var found = selection.neighborList(k: k) { Float($0) }
            for i in found.indices.indices where found.indices[i] < 0 { found.distances[i] = .infinity }
            return found
        }
        let queryFloats = UnsafeMutablePointer<Float>.allocate(capacity: n * d)
        defer { queryFloats.deallocate() }
        Parallel.forEachChunk(count: n, threads: threads, minimumChunk: 256) { range in
            percept_u8_to_float(queries + range.lowerBound * d, range.count * d, queryFloats + range.lowerBound * d)
        }
        let width = min(count, k + ByteIndex.rerankSlack)
        // Each (query, probe) pair gets its own slot of `width` candidates (list positions), so
        // lists can be scanned in parallel, each for all its queries; then slots merge per query.
        var slots = TopKTable<Float>(queries: n * nprobe, width: width, worst: .infinity)
        var members = [[Int32]](repeating: [], count: nlist)
        for slot in 0..<(n * nprobe) { members[Int(probes[slot])].append(Int32(slot)) }
        slots.withPointers { table in
            withExtendedLifetime(rows) {
                guard let base = rows.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
                BLAS.withThreadCount(1) {
                    Parallel.forEachChunk(count: nlist, threads: threads, chunksPerThread: 8) { lists in
                        let scan = ListScan(index: self, queries: queries, queryFloats: UnsafePointer(queryFloats),
                                            base: base, exactTable: nil, floatTable: table)
                        for list in lists { scan.scanL2(list: list, slots: members[list], nprobe: nprobe) }
                    }
                }
            }
        }
        var selection = TopKTable<Float>(queries: n, width: width, worst: .infinity)
        let candidates = slots.neighborList(k: width) { $0 }
        selection.withPointers { table in
            Parallel.forEachChunk(count: n, threads: threads, minimumChunk: 256) { range in
                for query in range {
                    for slot in (query * nprobe * width)..<((query + 1) * nprobe * width) {
                        let position = candidates.indices[slot]
                        guard position >= 0 else { continue }
                        table.offerUnordered(row: query, distance: candidates.distances[slot], index: Int(ids[Int(position)]))
                    }
                }
            }
        }
        return withExtendedLifetime(rows) {
            guard let base = rows.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
                return NeighborList(k: k, indices: [], distances: [])
            }
            return selection.neighborList(k: k, rerank: { row, index in
                percept_l2sq_u8(queries + row * d, base + Int(position[Int(index)]) * d, d)
            }) { Float($0).squareRoot() }
        }
    }

    private func scanAll(queries: UnsafePointer<UInt8>, n: Int, probes: [Int32], nprobe: Int, threads: Int?,
                         queryFloats: UnsafePointer<Float>?, exact: TopKTable<UInt32>.Pointers?,
                         float: TopKTable<Float>.Pointers?) {
        withExtendedLifetime(rows) {
            guard let base = rows.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            BLAS.withThreadCount(1) {
                Parallel.forEachChunk(count: n, threads: threads, minimumChunk: 64) { range in
                    let scan = ListScan(index: self, queries: queries, queryFloats: queryFloats, base: base,
                                        exactTable: exact, floatTable: float)
                    scan.run(queries: range, probes: probes, nprobe: nprobe)
                }
            }
        }
    }
}
