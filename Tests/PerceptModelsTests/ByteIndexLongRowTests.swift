import CKernels
import PerceptCore
import PerceptData
@testable import PerceptModels
import XCTest

/// Rows far longer than the old 65,793-byte limit (a 768×512 photo is 1,179,648 bytes): the
/// kernels and both metrics of `ByteIndex` stay exact against a plain integer reference.
final class ByteIndexLongRowTests: XCTestCase {
    func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    /// The reference: every pair's exact integer distance, one at a time, ordered by (distance, index).
    func referenceSearch(queries: [UInt8], stored: [UInt8], dimension d: Int, k: Int,
                         metric: DistanceMetric) -> (indices: [Int32], distances: [UInt64]) {
        var indices: [Int32] = [], distances: [UInt64] = []
        for q in 0..<(queries.count / d) {
            var pairs: [(distance: UInt64, index: Int32)] = []
            for v in 0..<(stored.count / d) {
                var sum: UInt64 = 0
                for t in 0..<d {
                    let difference = Int(queries[q * d + t]) - Int(stored[v * d + t])
                    sum += UInt64(metric == .l1 ? abs(difference) : difference * difference)
                }
                pairs.append((sum, Int32(v)))
            }
            pairs.sort { $0.distance != $1.distance ? $0.distance < $1.distance : $0.index < $1.index }
            indices += pairs.prefix(k).map(\.index)
            distances += pairs.prefix(k).map(\.distance)
        }
        return (indices, distances)
    }

    func testSquaredL2KernelIsExactForAnyLength() {
        for d in [65_793, 65_794, 131_072 + 5, 1_179_648] {
            let a = randomBytes(d, seed: UInt64(d)), b = randomBytes(d, seed: UInt64(d) + 1)
            XCTAssertEqual(percept_l2sq_u8(a, b, d), percept_l2sq_u8_scalar(a, b, d), "d \(d)")
        }
        let d = 1_179_648
        let white = [UInt8](repeating: 255, count: d), black = [UInt8](repeating: 0, count: d)
        XCTAssertEqual(percept_l2sq_u8(white, black, d), UInt64(d) * 65_025, "a white and a black photo")
    }

    func testStridedL1KernelMatchesItsScalarTwinOnPartsOfRows() {
        let stride = 300, dim = 137, nq = 5, nb = 3
        let queries = randomBytes(nq * stride, seed: 1), base = randomBytes(nb * stride, seed: 2)
        var fast = [UInt32](repeating: 0, count: nq * nb), twin = fast
        for offset in [0, 64, 163] {
            queries.withUnsafeBufferPointer { q in
                base.withUnsafeBufferPointer { b in
                    percept_l1_u8_block_strided(q.baseAddress! + offset, stride, nq, b.baseAddress! + offset, stride, nb, dim, &fast)
                    percept_l1_u8_block_strided_scalar(q.baseAddress! + offset, stride, nq, b.baseAddress! + offset, stride, nb,
                                                       dim, &twin)
                }
            }
            let expected = (0..<nq).flatMap { i in
                (0..<nb).map { j in
                    (0..<dim).reduce(UInt32(0)) { $0 + UInt32(abs(Int(queries[i * stride + offset + $1]) - Int(base[j * stride + offset + $1]))) }
                }
            }
            XCTAssertEqual(fast, expected, "offset \(offset)")
            XCTAssertEqual(twin, expected, "offset \(offset)")
        }
    }

    /// Photo-sized rows (768×512×3): both metrics equal the reference, ties going to the lower index.
    func testPhotoSizedRowsSearchExactly() throws {
        let height = 512, width = 768, channels = 3, d = height * width * channels
        var stored = randomBytes(5 * d, seed: 7)
        stored += stored[(2 * d)..<(3 * d)]  // row 5 repeats row 2: a tie
        let queries = Array(stored[(2 * d)..<(3 * d)]) + randomBytes(d, seed: 8)
        func dataset(_ pixels: [UInt8]) throws -> Dataset {
            try Dataset(height: height, width: width, channels: channels, pixels: PixelStorage(copying: pixels),
                        labels: Array(repeating: 0, count: pixels.count / d), classNames: ["photo"])
        }
        for metric in [DistanceMetric.l1, .l2] {
            let index = try ByteIndex(dataset: try dataset(stored), metric: metric)
            let found = try index.search(try dataset(queries), k: 3)
            let expected = referenceSearch(queries: queries, stored: stored, dimension: d, k: 3, metric: metric)
            XCTAssertEqual(found.indices, expected.indices, "\(metric)")
            XCTAssertEqual(Array(found.indices.prefix(2)), [2, 5], "\(metric): the tie goes to the lower index")
            let distances = expected.distances.map { metric == .l1 ? Float($0) : Float($0).squareRoot() }
            XCTAssertEqual(found.distances, distances, "\(metric)")
        }
    }

    /// The chunked L1 path for rows over 16 MB, reached by lowering the chunk: the same answers.
    func testChunkedL1SumsEqualTheReference() throws {
        let d = 5_000
        var stored = randomBytes(9 * d, seed: 3)
        stored += stored[(4 * d)..<(5 * d)]
        let queries = randomBytes(6 * d, seed: 4) + Array(stored[(4 * d)..<(5 * d)])
        var index = try ByteIndex(rows: stored, dimension: d, metric: .l1)
        let whole = try index.search(rows: queries, k: 4)
        index.l1ChunkBytes = 1_024
        let chunked = try index.search(rows: queries, k: 4, threads: 2)
        let expected = referenceSearch(queries: queries, stored: stored, dimension: d, k: 4, metric: .l1)
        XCTAssertEqual(chunked.indices, expected.indices)
        XCTAssertEqual(chunked.distances, expected.distances.map { Float($0) })
        XCTAssertEqual(chunked, whole)
        XCTAssertEqual(Array(chunked.indices.suffix(4).prefix(2)), [4, 9])
    }
}
