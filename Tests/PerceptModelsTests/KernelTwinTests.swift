import PerceptCore
@testable import PerceptModels
import TestSupport
import XCTest

/// The dense (BLAS) kernels and the fused top-k table against their plain reference twins, on
/// random inputs of several shapes.
final class KernelTwinTests: XCTestCase {
    func randomFloats(_ count: Int, _ random: inout SeededRandom) -> [Float] {
        (0..<count).map { _ in random.nextGaussian() }
    }

    func testAffineForwardAndBackwardMatchTheirTwins() {
        var random = SeededRandom(seed: 17)
        for (n, d, c) in [(1, 1, 1), (3, 7, 2), (17, 33, 10), (64, 130, 5)] {
            let x = randomFloats(n * d, &random), w = randomFloats(c * d, &random), b = randomFloats(c, &random)
            let dOut = randomFloats(n * c, &random)
            var out = [Float](repeating: .nan, count: n * c)
            var dW = [Float](repeating: .nan, count: c * d), db = [Float](repeating: .nan, count: c)
            var dX = [Float](repeating: .nan, count: n * d)
            x.withUnsafeBufferPointer { x in
                w.withUnsafeBufferPointer { w in
                    b.withUnsafeBufferPointer { b in
                        dOut.withUnsafeBufferPointer { g in
                            Dense.affineForward(x: x.baseAddress!, n: n, d: d, weights: w.baseAddress!, bias: b.baseAddress!,
                                                c: c, out: &out)
                            Dense.affineBackward(dOut: g.baseAddress!, x: x.baseAddress!, n: n, d: d, weights: w.baseAddress!,
                                                 c: c, dWeights: &dW, dBias: &db, dX: &dX)
                        }
                    }
                }
            }
            let shape = "N \(n) D \(d) C \(c)"
            assertClose(out, Dense.affineForwardReference(x: x, n: n, d: d, weights: w, bias: b, c: c),
                        rtol: 1e-5, atol: 1e-5, shape)
            let reference = Dense.affineBackwardReference(dOut: dOut, x: x, n: n, d: d, weights: w, c: c)
            assertClose(dW, reference.dWeights, rtol: 1e-5, atol: 1e-5, shape)
            assertClose(db, reference.dBias, rtol: 1e-5, atol: 1e-5, shape)
            assertClose(dX, reference.dX, rtol: 1e-5, atol: 1e-5, shape)
        }
    }

    func testMomentumUpdateMatchesItsTwin() {
        var random = SeededRandom(seed: 5)
        var parameter = randomFloats(101, &random), velocity = randomFloats(101, &random)
        let gradient = randomFloats(101, &random)
        let expected = Dense.momentumUpdateReference(parameter: parameter, velocity: velocity, gradient: gradient,
                                                     learningRate: 0.05, momentum: 0.9)
        Dense.momentumUpdate(&parameter, velocity: &velocity, gradient: gradient, learningRate: 0.05, momentum: 0.9)
        XCTAssertEqual(parameter, expected.parameter)
        XCTAssertEqual(velocity, expected.velocity)
        // A known answer: v = 0.9·1 − 0.5·2 = −0.1, w = 3 − 0.1.
        var w: [Float] = [3], v: [Float] = [1]
        Dense.momentumUpdate(&w, velocity: &v, gradient: [2], learningRate: 0.5, momentum: 0.9)
        XCTAssertEqual(v[0], -0.1, accuracy: 1e-6)
        XCTAssertEqual(w[0], 2.9, accuracy: 1e-6)
    }

    /// Small integer distances, so many ties: every way of offering gives the reference's
    /// (distance, lower index first) order.
    func testTopKTableMatchesItsTwinWithTies() {
        var random = SeededRandom(seed: 23)
        for (queries, stored, k) in [(1, 1, 1), (4, 10, 3), (7, 50, 10), (3, 40, 40), (5, 200, 7)] {
            let rows = (0..<queries).map { _ in (0..<stored).map { _ in UInt32(random.next() % 6) } }
            let expected = TopKTable<UInt32>.reference(rows, k: k)
            let tile = 1 + Int(random.next() % 9)

            var tiled = TopKTable<UInt32>(queries: queries, width: k, worst: .max)
            var single = TopKTable<UInt32>(queries: queries, width: k, worst: .max)
            var unordered = TopKTable<UInt32>(queries: queries, width: k, worst: .max)
            let shuffled = (0..<stored).shuffled(using: &random)
            tiled.withPointers { table in
                for (query, row) in rows.enumerated() {
                    for start in stride(from: 0, to: stored, by: tile) {
                        let count = min(tile, stored - start)
                        row[start..<(start + count)].withUnsafeBufferPointer {
                            table.offer(row: query, distances: $0.baseAddress!, count: count, firstIndex: start)
                        }
                    }
                }
            }
            single.withPointers { table in
                for (query, row) in rows.enumerated() {
                    for (index, distance) in row.enumerated() { table.offer(row: query, distance: distance, index: index) }
                }
            }
            unordered.withPointers { table in
                for (query, row) in rows.enumerated() {
                    for index in shuffled { table.offerUnordered(row: query, distance: row[index], index: index) }
                }
            }
            for (name, table) in [("tiles of \(tile)", tiled), ("one at a time", single), ("unordered", unordered)] {
                let found = table.neighborList(k: k) { Float($0) }
                XCTAssertEqual(found.indices, expected.indices.flatMap { $0 }, "\(name), \(queries)×\(stored), k \(k)")
                XCTAssertEqual(found.distances, expected.distances.flatMap { $0 }.map { Float($0) }, "\(name)")
            }
        }
    }
}
