import PerceptCore
import PerceptData

/// One rank's share of a `ByteIndex` for sharded search: the rows `lower..<upper`, numbered from 0,
/// sharing the whole index's pixel memory (no copy: with a memory-mapped pack only the shard's
/// pages are ever read) and its precomputed norms and pooled rows, sliced rather than recomputed.
///
/// The search of a shard runs the same loops as the whole index; its exact integer distances do
/// not depend on which other rows share the index, so the merged shards equal the whole search
/// (the reference the tests hold it to is `ByteIndex.search` on the whole index).
extension ByteIndex {
    func shard(_ rows: Range<Int>) -> ByteIndex {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= count, "shard \(rows) of an index of \(count) rows")
        let d = dimension
        let parent = storage
        let bytes = UnsafeRawBufferPointer(rebasing: storage.bytes[(rows.lowerBound * d)..<(rows.upperBound * d)])
        // The slice keeps the parent storage (and its memory map) alive until the shard dies.
        let slice = PixelStorage(bytes: bytes) { _ in withExtendedLifetime(parent) {} }
        var pooledRows: (vectors: [Float], norms: [Float]) = ([], [])
        if let bound {
            let g = bound.groups
            pooledRows = (Array(pooled.vectors[(rows.lowerBound * g)..<(rows.upperBound * g)]), Array(pooled.norms[rows]))
        }
        var shard = ByteIndex(storage: slice, count: rows.count, dimension: d, metric: metric,
                              squaredNorms: metric == .l2 ? Array(squaredNorms[rows]) : [], bound: bound, pooled: pooledRows)
        shard.l2Search = l2Search
        shard.l2Threading = l2Threading
        shard.l1ChunkBytes = l1ChunkBytes
        shard.statistics = statistics
        return shard
    }

    /// `keyedSearch` on the pixels of `queries`.
    func keyedSearch(_ queries: Dataset, k: Int, threads: Int?) throws -> KeyedNeighbors {
        guard queries.imageByteCount == dimension else {
            throw PerceptError.invalidData(
                "queries have \(queries.imageByteCount) bytes an image but the index was built on \(dimension) (different image sizes?)")
        }
        return try queries.withPixelBytes { try keyedSearch(bytes: $0, queryCount: queries.count, k: k, threads: threads) }
    }
}
