import XCTest
import Foundation
@testable import PerceptCore
import TestSupport

final class SeededRandomTests: XCTestCase {
    func testSameSeedSameSequenceDifferentSeedDifferentSequence() {
        var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42), c = SeededRandom(seed: 43)
        let sa = (0..<100).map { _ in a.next() }
        let sb = (0..<100).map { _ in b.next() }
        let sc = (0..<100).map { _ in c.next() }
        XCTAssertEqual(sa, sb)
        XCTAssertNotEqual(sa, sc)
    }

    func testUnitFloatsAreInRangeAndRoughlyUniform() {
        var rng = SeededRandom(seed: 7)
        let values = (0..<100_000).map { _ in rng.nextUnitFloat() }
        XCTAssertTrue(values.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = values.reduce(0, +) / Float(values.count)
        XCTAssertEqual(mean, 0.5, accuracy: 0.01)
        // Each tenth of [0,1) should get about 10% of the draws.
        var bins = [Int](repeating: 0, count: 10)
        for v in values { bins[Int(v * 10)] += 1 }
        XCTAssertTrue(bins.allSatisfy { abs($0 - 10_000) < 600 }, "\(bins)")
    }

    func testGaussianHasUnitVariance() {
        var rng = SeededRandom(seed: 9)
        let values = (0..<50_000).map { _ in Double(rng.nextGaussian()) }
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
        XCTAssertEqual(mean, 0, accuracy: 0.02)
        XCTAssertEqual(variance, 1, accuracy: 0.03)
    }

    func testShuffleIsDeterministicBySeed() {
        var a = SeededRandom(seed: 1), b = SeededRandom(seed: 1)
        XCTAssertEqual(Array(0..<50).shuffled(using: &a), Array(0..<50).shuffled(using: &b))
    }
}

final class ParallelTests: XCTestCase {
    func testChunksCoverEveryIndexExactlyOnce() {
        for count in [0, 1, 2, 7, 100, 1001] {
            for threads in [1, 2, 3, 8] {
                var hits = [Int](repeating: 0, count: count)
                hits.withUnsafeMutableBufferPointer { buffer in
                    nonisolated(unsafe) let out = buffer
                    Parallel.forEachChunk(count: count, threads: threads, chunksPerThread: 3) { range in
                        for i in range { out[i] += 1 }
                    }
                }
                XCTAssertEqual(hits, [Int](repeating: 1, count: count), "count \(count) threads \(threads)")
            }
        }
    }

    func testMapKeepsOrder() {
        XCTAssertEqual(Parallel.map(count: 1000) { $0 * $0 }, (0..<1000).map { $0 * $0 })
    }
}

final class BLASTests: XCTestCase {
    /// gemm against a triple loop, for every transpose combination.
    func testGemmMatchesNaiveProduct() {
        var rng = SeededRandom(seed: 3)
        let m = 7, n = 5, k = 11
        let a = (0..<(m * k)).map { _ in rng.nextGaussian() }
        let b = (0..<(k * n)).map { _ in rng.nextGaussian() }
        func at(_ i: Int, _ p: Int, _ t: Bool) -> Float { t ? a[p * m + i] : a[i * k + p] }
        func bt(_ p: Int, _ j: Int, _ t: Bool) -> Float { t ? b[j * k + p] : b[p * n + j] }
        for ta in [false, true] {
            for tb in [false, true] {
                var expected = [Float](repeating: 0, count: m * n)
                for i in 0..<m { for j in 0..<n { for p in 0..<k { expected[i * n + j] += at(i, p, ta) * bt(p, j, tb) } } }
                var c = [Float](repeating: 1, count: m * n)
                BLAS.gemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 2, a: a, b: b, beta: 0.5, c: &c)
                assertClose(c, expected.map { 2 * $0 + 0.5 }, rtol: 1e-5, atol: 1e-5, "ta \(ta) tb \(tb)")
            }
        }
    }

    func testGemvMatchesNaive() {
        let a: [Float] = [1, 2, 3, 4, 5, 6]  // 2×3
        var y = [Float](repeating: 0, count: 2)
        BLAS.gemv(m: 2, n: 3, a: a, x: [1, 0, -1], y: &y)
        XCTAssertEqual(y, [-2, -2])
        var yt = [Float](repeating: 0, count: 3)
        BLAS.gemv(transpose: true, m: 2, n: 3, a: a, x: [1, 1], y: &yt)
        XCTAssertEqual(yt, [5, 7, 9])
    }

    /// Overlapping `withThreadCount` calls from many threads: inside a request the count never
    /// exceeds it, and once all have ended the count is what it was before (per-caller save and
    /// restore, interleaved, could leave any of the requested counts behind).
    func testOverlappingThreadCountRequestsNeverExceedTheirsAndRestoreTheOuterCount() {
        let before = BLAS.threadCount
        let violations = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for round in 0..<200 {
                let wanted = (worker + round) % 3 + 1
                BLAS.withThreadCount(wanted) {
                    if BLAS.threadCount > wanted { violations.add() }
                    if round % 7 == 0 {
                        BLAS.withThreadCount(1) { if BLAS.threadCount != 1 { violations.add() } }
                    }
                }
            }
        }
        XCTAssertEqual(violations.value, 0)
        XCTAssertEqual(BLAS.threadCount, before)
        BLAS.withThreadCount(forMultiplyAdds: 10) { XCTAssertEqual(BLAS.threadCount, 1, "a tiny product runs on one thread") }
        XCTAssertEqual(BLAS.threadCount, before)
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }
}

final class AtomicFileTests: XCTestCase {
    func testWriteReplacesAndLeavesNoTemporaryFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("percept-atomic-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/out.txt"
        try AtomicFile.write("first", to: path)
        try AtomicFile.write("second", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "second")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.txt"])
    }

    func testFailedWriteKeepsTheOldFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("percept-atomic-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/model.bin"
        try AtomicFile.write("good", to: path)
        struct Crash: Error {}
        XCTAssertThrowsError(try AtomicFile.write(to: path) { handle in
            try handle.write(contentsOf: Data("half".utf8))
            throw Crash()
        })
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "good")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["model.bin"])
    }

    func testMissingFolderIsAClearError() {
        XCTAssertThrowsError(try AtomicFile.write("x", to: "/nonexistent-dir-percept/x.txt")) { error in
            XCTAssertEqual((error as? PerceptError)?.kind, .io)
            XCTAssertTrue("\(error)".contains("/nonexistent-dir-percept/x.txt"))
        }
    }
}

final class AssertCloseTests: XCTestCase {
    func testToleranceArithmetic() {
        // Within tolerance: passes silently. Outside: recorded as a failure (checked with XCTExpectFailure
        // where available; here by the predicate it uses).
        let within: Float = 1.0 + 0.9e-5
        XCTAssertTrue(abs(within - 1) <= 1e-6 + 1e-5 * 1)
        assertClose([within], [1.0], rtol: 1e-5, atol: 1e-6)
    }
}
