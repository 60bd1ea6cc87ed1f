import CKernels
import PerceptCore

/// The hot loop of `IVFIndex.search`: one worker's queries, each against one list, grouped by
/// list so a list is scanned for all its queries at once.
///
/// - L2: the pooled lower bound for a tile of queries × a block of list rows by one GEMM, then exact
///   integer distances (AVX2) only where the bound is below the query's current k-th distance
///   (margin for Float rounding as in `ByteIndex+BoundedL2`).
/// - L1: the tile's query bytes gathered next to each other, then the AVX2 SAD tile kernel.
struct ListScan {
    let index: IVFIndex
    let queries: UnsafePointer<UInt8>
    let projected: (vectors: [Float], norms: [Float])
    /// The index's rows in list order.
    let base: UnsafePointer<UInt8>
    let table: TopKTable<UInt32>.Pointers

    static let queryTile = 256, rowBlock = 2048

    /// For each query of `range`, scans list `lists[query - range.lowerBound]`.
    func run(queries range: Range<Int>, lists: [Int]) {
        let order = lists.indices.sorted { lists[$0] != lists[$1] ? lists[$0] < lists[$1] : $0 < $1 }
        let d = index.dimension, g = index.bound.groups, tile = ListScan.queryTile, block = ListScan.rowBlock
        let gathered = UnsafeMutablePointer<Float>.allocate(capacity: tile * g)
        let products = UnsafeMutablePointer<Float>.allocate(capacity: tile * block)
        let queryBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: tile * d)
        let sums = UnsafeMutablePointer<UInt32>.allocate(capacity: tile * block)
        defer { gathered.deallocate(); products.deallocate(); queryBytes.deallocate(); sums.deallocate() }
        var groupStart = 0
        while groupStart < order.count {
            let list = lists[order[groupStart]]
            var groupEnd = groupStart
            while groupEnd < order.count && lists[order[groupEnd]] == list { groupEnd += 1 }
            let members = order[groupStart..<groupEnd].map { range.lowerBound + $0 }
            groupStart = groupEnd
            let first = index.listStarts[list], end = index.listStarts[list + 1]
            for tileStart in stride(from: 0, to: members.count, by: tile) {
                let tileQueries = Array(members[tileStart..<min(members.count, tileStart + tile)])
                for rowStart in stride(from: first, to: end, by: block) {
                    let nb = min(block, end - rowStart)
                    switch index.metric {
                    case .l1:
                        scanL1(tileQueries, rowStart: rowStart, nb: nb, d: d, queryBytes: queryBytes, sums: sums)
                    default:
                        scanL2(tileQueries, rowStart: rowStart, nb: nb, d: d, g: g, gathered: gathered, products: products)
                    }
                }
            }
        }
    }

    private func scanL2(_ tileQueries: [Int], rowStart: Int, nb: Int, d: Int, g: Int,
                        gathered: UnsafeMutablePointer<Float>, products: UnsafeMutablePointer<Float>) {
        let nq = tileQueries.count, margin = 1 - ByteIndex.boundMargin
        projected.vectors.withUnsafeBufferPointer { pq in
            index.pooled.withUnsafeBufferPointer { pv in
                guard let pq = pq.baseAddress, let pv = pv.baseAddress else { return }
                for (i, query) in tileQueries.enumerated() {
                    (gathered + i * g).update(from: pq + query * g, count: g)
                }
                BLAS.withThreadCount(1) {
                    BLAS.gemm(transposeB: true, m: nq, n: nb, k: g, alpha: -2, a: gathered, b: pv + rowStart * g,
                              beta: 0, c: products)
                }
            }
        }
        for (i, query) in tileQueries.enumerated() {
            let lower = products + i * nb, queryNorm = projected.norms[query], queryRow = queries + query * d
            var worst = table.worst(row: query)
            var limit = worst == .max ? Float.infinity : Float(worst).nextUp
            for j in 0..<nb {
                guard lower[j] + (queryNorm + index.pooledNorms[rowStart + j]) * margin < limit else { continue }
                let exact = UInt32(percept_l2sq_u8(queryRow, base + (rowStart + j) * d, d))
                guard exact <= worst else { continue }
                table.offerUnordered(row: query, distance: exact, index: Int(index.ids[rowStart + j]))
                worst = table.worst(row: query)
                limit = worst == .max ? Float.infinity : Float(worst).nextUp
            }
        }
    }

    private func scanL1(_ tileQueries: [Int], rowStart: Int, nb: Int, d: Int,
                        queryBytes: UnsafeMutablePointer<UInt8>, sums: UnsafeMutablePointer<UInt32>) {
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
