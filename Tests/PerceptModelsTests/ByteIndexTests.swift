import XCTest
import CKernels
import PerceptCore
import PerceptData
@testable import PerceptModels

/// The AVX2 L1 kernel and `ByteIndex` against plain references: a Swift twin of the kernel and
/// `referenceNearestNeighbors` (one pair at a time, stable order).
final class ByteIndexTests: XCTestCase {
    func randomBytes(_ count: Int, seed: UInt64, below limit: UInt64 = 256) -> [UInt8] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in UInt8(random.next() % limit) }
    }

    /// The Swift reference twin of `percept_l1_u8_block`.
    func referenceL1Block(_ q: [UInt8], _ nq: Int, _ b: [UInt8], _ nb: Int, _ d: Int) -> [UInt32] {
        var out = [UInt32](repeating: 0, count: nq * nb)
        for i in 0..<nq {
            for j in 0..<nb {
                var sum: UInt32 = 0
                for t in 0..<d { sum += UInt32(abs(Int(q[i * d + t]) - Int(b[j * d + t]))) }
                out[i * nb + j] = sum
            }
        }
        return out
    }

    func testL1KernelMatchesSwiftTwin() {
        for d in [1, 31, 32, 33, 3072] {
            for (nq, nb) in [(1, 1), (5, 3), (7, 9), (4, 2), (8, 5)] {
                let q = randomBytes(nq * d, seed: UInt64(d * 100 + nq)), b = randomBytes(nb * d, seed: UInt64(d * 7 + nb))
                let expected = referenceL1Block(q, nq, b, nb, d)
                var fast = [UInt32](repeating: 0, count: nq * nb), scalar = fast
                percept_l1_u8_block(q, nq, b, nb, d, &fast)
                percept_l1_u8_block_scalar(q, nq, b, nb, d, &scalar)
                XCTAssertEqual(fast, expected, "dim \(d), \(nq)×\(nb), avx2 \(percept_has_avx2())")
                XCTAssertEqual(scalar, expected, "scalar dim \(d), \(nq)×\(nb)")
            }
        }
        // Extremes: every byte difference 255.
        let zeros = [UInt8](repeating: 0, count: 3 * 65), full = [UInt8](repeating: 255, count: 5 * 65)
        var out = [UInt32](repeating: 0, count: 15)
        percept_l1_u8_block(zeros, 3, full, 5, 65, &out)
        XCTAssertEqual(out, Array(repeating: 65 * 255, count: 15))
    }

    func testExactSquaredL2() {
        let a = randomBytes(3072, seed: 1), b = randomBytes(3072, seed: 2)
        let expected = zip(a, b).reduce(UInt64(0)) { $0 + UInt64((Int($1.0) - Int($1.1)) * (Int($1.0) - Int($1.1))) }
        XCTAssertEqual(percept_l2sq_u8(a, b, 3072), expected)
    }

    func tensor(_ bytes: [UInt8], dimension: Int) -> Tensor {
        Tensor(shape: [bytes.count / dimension, dimension], scalars: bytes.map(Float.init))
    }

    /// Few distinct byte values and duplicated rows make many exact ties; with D = 24 every
    /// Float sum is an exact integer, so L2 must match the reference bit for bit, ties included.
    /// 2,300 stored rows span two stored-row blocks (2,048) and many L1 tiles.
    func testSearchMatchesReferenceWithTies() throws {
        let d = 24, m = 2300, n = 45
        var stored = randomBytes(m * d, seed: 11, below: 4)
        for (from, to) in [(3, 2100), (3, 50), (7, 8), (100, 2299)] {  // duplicate rows
            stored.replaceSubrange((to * d)..<((to + 1) * d), with: stored[(from * d)..<((from + 1) * d)])
        }
        var queries = randomBytes(n * d, seed: 12, below: 4)
        queries.replaceSubrange(0..<d, with: stored[(3 * d)..<(4 * d)])  // a query equal to a stored row
        for metric in ByteIndex.supportedMetrics {
            let index = try ByteIndex(rows: stored, dimension: d, metric: metric)
            let all = referenceNearestNeighbors(queries: tensor(queries, dimension: d),
                                                vectors: tensor(stored, dimension: d), k: 20, metric: metric)
            for k in [1, 5, 20] {
                let expected = (0..<n).map { ($0 * 20)..<($0 * 20 + k) }
                let fast = try index.search(rows: queries, k: k, threads: 2)
                XCTAssertEqual(fast.indices, expected.flatMap { all.indices[$0] }, "\(metric) k \(k)")
                XCTAssertEqual(fast.distances, expected.flatMap { all.distances[$0] }, "\(metric) k \(k)")
                XCTAssertEqual(try index.search(rows: queries, k: k, threads: 1), fast, "threads changed \(metric) k \(k)")
            }
            XCTAssertEqual(Array(try index.search(rows: queries, k: 3).neighbors(of: 0)), [3, 50, 2100], "\(metric)")
        }
    }

    /// Full-range pixels at CIFAR's D = 3072: L1 exact; L2 re-ranked exactly (the reference
    /// sums in Float, so its distances are compared with a tolerance).
    func testSearchMatchesReferenceOnImageSizedRows() throws {
        let d = 3072, m = 150, n = 9
        let stored = randomBytes(m * d, seed: 21), queries = randomBytes(n * d, seed: 22)
        for metric in ByteIndex.supportedMetrics {
            let expected = referenceNearestNeighbors(queries: tensor(queries, dimension: d),
                                                     vectors: tensor(stored, dimension: d), k: 5, metric: metric)
            let fast = try ByteIndex(rows: stored, dimension: d, metric: metric).search(rows: queries, k: 5)
            XCTAssertEqual(fast.indices, expected.indices, "\(metric)")
            // The reference's Float sums of ~3e7 drift by ~1e-5 relative; ours are exact integers.
            for (x, y) in zip(fast.distances, expected.distances) { XCTAssertEqual(x, y, accuracy: y * 1e-4, "\(metric)") }
            for (r, index) in fast.indices.enumerated() {
                let q = queries[((r / 5) * d)..<((r / 5 + 1) * d)], v = stored[(Int(index) * d)..<((Int(index) + 1) * d)]
                let diffs = zip(q, v).map { abs(Int($0) - Int($1)) }
                let exact = metric == .l1 ? Float(diffs.reduce(0, +)) : Float(diffs.reduce(0) { $0 + $1 * $1 }).squareRoot()
                XCTAssertEqual(fast.distances[r], exact, "\(metric) exact distance")
            }
        }
    }

    func testDatasetSearchAndBadInputs() throws {
        let train = try tinyDataset([[0, 0], [10, 10], [3, 4]], labels: [0, 1, 0], classNames: ["a", "b"])
        let index = try ByteIndex(dataset: train, metric: .l2)
        let query = try tinyDataset([[3, 3]], labels: [0], classNames: ["a", "b"])
        let found = try index.search(query, k: 2)
        XCTAssertEqual(found.indices, [2, 0])
        XCTAssertEqual(found.distances, [1, Float(18).squareRoot()])
        XCTAssertEqual(try ByteIndex(dataset: train, metric: .l1).search(query, k: 3).distances, [1, 6, 14])

        func assertPerceptError(_ body: @autoclosure () throws -> Any, _ message: String) {
            XCTAssertThrowsError(try body(), message) { XCTAssertTrue($0 is PerceptError, "\(message): \($0)") }
        }
        assertPerceptError(try index.search(query, k: 0), "k = 0")
        assertPerceptError(try index.search(query, k: -1), "k < 0")
        assertPerceptError(try index.search(query, k: 4), "k > N")
        let wide = try tinyDataset([[1, 2, 3]], labels: [0], classNames: ["a"])
        assertPerceptError(try index.search(wide, k: 1), "dimension mismatch")
        assertPerceptError(try index.search(rows: [1, 2, 3], k: 1), "ragged query rows")
        assertPerceptError(try ByteIndex(rows: [1, 2, 3], dimension: 2, metric: .l1), "ragged stored rows")
        assertPerceptError(try ByteIndex(rows: [], dimension: 2, metric: .l1), "empty index")
    }
}
