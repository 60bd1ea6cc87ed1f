import CKernels
import PerceptCore

/// The hot loops of `IVFIndex.search`, queries grouped by probed list so each list is scanned once
/// for all the queries that probe it.
///
/// - L2 (one list a task, lists in parallel): the list's rows converted to Float once, then one
///   GEMM a tile of (Float) queries × block of rows — ‖v‖² − 2 q·v ranks the rows for each query —
///   with the top (k + slack) written to the (query, probe) pair's own slot; `IVFIndex` merges the
///   slots and re-ranks the best by exact integer distance. (The pooled bound of
///   `ByteIndex` pays off only when most rows are far: inside the probed lists most rows are near,
///   and the full GEMM is cheaper than exact distances for most of them.)
/// - L1 (one query range a task): the tile's query bytes gathered next to each other, then the
///   AVX2 SAD tile kernel, offered straight to each query's exact top k.
struct ListScan {
    let index: IVFIndex
    let queries: UnsafePointer<UInt8>
    /// All queries as Float (L2 only), N×D.
    let queryFloats: UnsafePointer<Float>?
    /// The index's rows in list order.
    let base: UnsafePointer<UInt8>
    /// Exact sums for L1; Float ‖v‖² − 2 q·v candidates for L2.
    let exactTable: TopKTable<UInt32>.Pointers?
    let floatTable: TopKTable<Float>.Pointers?

    static let queryTile = 256, rowBlock = 1024

    /// L1: scans, for each query of `range`, each of its lists (`probes`, N×nprobe).
    func run(queries range: Range<Int>, probes: [Int32], nprobe: Int) {
        var members = [[Int]](repeating: [], count: index.nlist)
        for query in range {
            for r in 0..<nprobe { members[Int(probes[query * nprobe + r])].append(query) }
        }
        let d = index.dimension, tile = ListScan.queryTile, block = ListScan.rowBlock
        let queryBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: tile * d)
        let sums = UnsafeMutablePointer<UInt32>.allocate(capacity: tile * block)
        defer { queryBytes.deallocate(); sums.deallocate() }
        for (list, listQueries) in members.enumerated() where !listQueries.isEmpty {
            let first = index.listStarts[list], end = index.listStarts[list + 1]
            for rowStart in stride(from: first, to: end, by: block) {
                let nb = min(block, end - rowStart)
                for tileStart in stride(from: 0, to: listQueries.count, by: tile) {
                    let tileQueries = listQueries[tileStart..<min(listQueries.count, tileStart + tile)]
                    scanL1(tileQueries, rowStart: rowStart, nb: nb, d: d, queryBytes: queryBytes, sums: sums)
                }
            }
        }
    }

    /// Scans `list` for the (query, probe) `slots` (slot = query · nprobe + probe) that name it.
    func scanL2(list: Int, slots: [Int32], nprobe: Int) {
        guard let queryFloats, let table = floatTable, !slots.isEmpty else { return }
        let d = index.dimension, tile = ListScan.queryTile, block = ListScan.rowBlock
        let first = index.listStarts[list], end = index.listStarts[list + 1]
        let rowCount = min(block, end - first)
        guard rowCount > 0 else { return }
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: tile * d)
        let rowFloats = UnsafeMutablePointer<Float>.allocate(capacity: rowCount * d)
        let products = UnsafeMutablePointer<Float>.allocate(capacity: tile * rowCount)
        defer { gathered.deallocate(); rowFloats.deallocate(); products.deallocate() }
        for rowStart in stride(from: first, to: end, by: block) {
            let nb = min(block, end - rowStart)
            percept_u8_to_float(base + rowStart * d, nb * d, rowFloats)
            for tileStart in stride(from: 0, to: slots.count, by: tile) {
                let tileSlots = slots[tileStart..<min(slots.count, tileStart + tile)]
                for (i, slot) in tileSlots.enumerated() {
                    (gathered + i * d).update(from: queryFloats + (Int(slot) / nprobe) * d, count: d)
                }
                BLAS.gemm(transposeB: true, m: tileSlots.count, n: nb, k: d, alpha: -2, a: gathered, b: rowFloats,
                          beta: 0, c: products)
                for (i, slot) in tileSlots.enumerated() {
                    let row = products + i * nb
                    for j in 0..<nb { row[j] += index.rowNorms[rowStart + j] }
                    // Positions rise with the original index inside a list, so ties keep index order.
                    table.offer(row: Int(slot), distances: row, count: nb, firstIndex: rowStart)
                }
            }
        }
    }

    private func scanL1(_ tileQueries: ArraySlice<Int>, rowStart: Int, nb: Int, d: Int,
                        queryBytes: UnsafeMutablePointer<UInt8>, sums: UnsafeMutablePointer<UInt32>) {
        guard let table = exactTable else { return }
        for (i, query) in tileQueries.enumerated() {
            (queryBytes + i * d).update(from: queries + query * d, count: d)
        }
        percept_l1_u8_block(queryBytes, tileQueries.count, base + rowStart * d, nb, d, sums)
        for (i, query) in tileQueries.enumerated() {
            var worst = table.worst(row: query)
            let row = sums + i * nb
            for j in 0..<nb where row[j] <= worst {
                table.offerUnordered(row: query, distance: row[j], index: Int(index.ids[rowStart + j]))
                worst = table.worst(row: query)
            }
        }
    }
}
