import XCTest
import PerceptCore
import TestSupport
@testable import PerceptNetwork

/// Every fast kernel of BatchNorm, pooling, the optimisers and cross-entropy against its plain
/// reference twin, on random shapes and values.
final class KernelTwinTests: XCTestCase {
    /// Deterministic random shapes: `count` draws in lower...upper.
    func sizes(_ count: Int, _ range: ClosedRange<Int>, seed: UInt64) -> [Int] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in range.lowerBound + Int(random.next() % UInt64(range.count)) }
    }

    func testBatchNormKernelsMatchTheirTwins() {
        let shapes = zip(zip(sizes(12, 1...6, seed: 1), sizes(12, 1...9, seed: 2)), sizes(12, 1...13, seed: 3))
        for (index, ((batch, side), channels)) in shapes.enumerated() {
            let shape = FeatureShape(height: side, width: side + index % 3, channels: channels)
            let rows = batch * shape.height * shape.width
            let c = channels
            let x = randomValues(rows * c, seed: UInt64(10 + index), scale: 3).map { $0 + 0.5 }
            let gamma = randomValues(c, seed: UInt64(20 + index)), beta = randomValues(c, seed: UInt64(30 + index))
            let dy = randomValues(rows * c, seed: UInt64(40 + index))
            for threads in [1, 2, 3] {
                let norm = BatchNorm(name: "norm", shape: shape, epsilon: 1e-3, momentum: 0.1, scale: gamma, shift: beta)
                norm.threads = threads
                let input = FloatBuffer(), dOutput = FloatBuffer()
                input.load(x)
                dOutput.load(dy)
                let y = norm.forward(input, batch: batch, mode: .training).array(rows * c)
                let expected = BatchNormKernels.referenceForwardTraining(x: x, rows: rows, channels: c, epsilon: 1e-3,
                                                                         gamma: gamma, beta: beta)
                let message = "\(batch)×\(shape), \(threads) threads"
                assertClose(y, expected.y, rtol: 1e-4, atol: 1e-4, "forward, \(message)")
                let dx = norm.backward(dOutput, batch: batch).array(rows * c)
                let twin = BatchNormKernels.referenceBackward(dy: dy, x: x, rows: rows, channels: c, epsilon: 1e-3, gamma: gamma)
                assertClose(dx, twin.dx, rtol: 1e-3, atol: 1e-4, "dx, \(message)")
                assertClose(norm.scale.gradient, twin.dGamma, rtol: 1e-4, atol: 1e-4, "dγ, \(message)")
                assertClose(norm.shift.gradient, twin.dBeta, rtol: 1e-4, atol: 1e-4, "dβ, \(message)")
                // Inference normalises with the running statistics (here: one momentum step from 0 and 1).
                let unbias: Float = rows > 1 ? Float(rows) / Float(rows - 1) : 1
                let runningMean = expected.mean.map { 0.1 * $0 }
                let runningVariance = expected.variance.map { 0.9 + 0.1 * $0 * unbias }
                assertClose(norm.runningMean.value, runningMean, rtol: 1e-4, atol: 1e-5, "running mean, \(message)")
                assertClose(norm.runningVariance.value, runningVariance, rtol: 1e-4, atol: 1e-5, "running variance, \(message)")
                let inference = norm.forward(input, batch: batch, mode: .inference).array(rows * c)
                let twinInference = BatchNormKernels.referenceNormalize(
                    x: x, rows: rows, channels: c, mean: norm.runningMean.value, variance: norm.runningVariance.value,
                    epsilon: 1e-3, gamma: gamma, beta: beta)
                assertClose(inference, twinInference, rtol: 1e-4, atol: 1e-4, "inference, \(message)")
            }
        }
    }

    func testPoolingKernelsMatchTheirTwins() {
        // (H, W, C, kernel, stride); kernel 0 means global.
        let cases = [(4, 4, 3, 2, 2), (5, 7, 2, 2, 2), (6, 5, 4, 3, 1), (7, 7, 5, 3, 2), (5, 6, 9, 2, 3), (3, 4, 2, 0, 0),
                     (1, 1, 6, 1, 1), (8, 3, 17, 3, 3)]
        for (index, (h, w, c, kernel, stride)) in cases.enumerated() {
            let shape = FeatureShape(height: h, width: w, channels: c)
            for kind in [Pooling.Kind.max, .average] {
                for (batch, threads) in [(1, 1), (3, 2), (4, 3)] {
                    let layer = kernel == 0 ? Pooling(name: "pool", global: kind, shape: shape)
                        : Pooling(name: "pool", kind: kind, shape: shape, kernel: kernel, stride: stride)
                    layer.threads = threads
                    let x = randomValues(batch * shape.count, seed: UInt64(100 + index))
                    let dy = randomValues(batch * layer.outputShape.count, seed: UInt64(200 + index))
                    let input = FloatBuffer(), dOutput = FloatBuffer()
                    input.load(x)
                    dOutput.load(dy)
                    let message = "\(kind) \(batch)×\(shape) k\(kernel) s\(stride), \(threads) threads"
                    let y = layer.forward(input, batch: batch, mode: .training).array(batch * layer.outputShape.count)
                    assertClose(y, PoolingKernels.referenceForward(layer.geometry, kind: kind, x: x, batch: batch),
                                rtol: 1e-5, atol: 1e-6, "forward, \(message)")
                    let dx = layer.backward(dOutput, batch: batch).array(batch * shape.count)
                    assertClose(dx, PoolingKernels.referenceBackward(layer.geometry, kind: kind, x: x, dy: dy, batch: batch),
                                rtol: 1e-5, atol: 1e-6, "backward, \(message)")
                }
            }
        }
    }

    func testOptimizerKernelsMatchTheirTwins() {
        for (index, count) in sizes(6, 1...300, seed: 7).enumerated() {
            let seed = UInt64(300 + 10 * index)
            let gradient = randomValues(count, seed: seed)
            for nesterov in [false, true] {
                var (w1, v1) = (randomValues(count, seed: seed + 1), randomValues(count, seed: seed + 2))
                var (w2, v2) = (w1, v1)
                for _ in 0..<3 {
                    OptimizerKernels.sgdStep(weights: &w1, gradient: gradient, velocity: &v1, learningRate: 0.1, momentum: 0.9,
                                             nesterov: nesterov, coupledDecay: 0.01, decoupledDecay: 0.02)
                    OptimizerKernels.referenceSGDStep(weights: &w2, gradient: gradient, velocity: &v2, learningRate: 0.1,
                                                      momentum: 0.9, nesterov: nesterov, coupledDecay: 0.01, decoupledDecay: 0.02)
                }
                XCTAssertEqual(w1, w2, "SGD weights, \(count)")
                XCTAssertEqual(v1, v2, "SGD velocity, \(count)")
                XCTAssertNotEqual(w1, randomValues(count, seed: seed + 1), "SGD moved nothing")
            }
            var (w1, m1, s1) = (randomValues(count, seed: seed + 3), [Float](repeating: 0, count: count), [Float](repeating: 0, count: count))
            var (w2, m2, s2) = (w1, m1, s1)
            OptimizerKernels.adamStep(weights: &w1, gradient: gradient, m: &m1, v: &s1, learningRate: 0.01, beta1: 0.9, beta2: 0.999,
                                      epsilon: 1e-8, correction1: 0.1, correction2: 0.001, coupledDecay: 0.01, decoupledDecay: 0.02)
            OptimizerKernels.referenceAdamStep(weights: &w2, gradient: gradient, m: &m2, v: &s2, learningRate: 0.01, beta1: 0.9,
                                               beta2: 0.999, epsilon: 1e-8, correction1: 0.1, correction2: 0.001,
                                               coupledDecay: 0.01, decoupledDecay: 0.02)
            XCTAssertEqual(w1, w2, "Adam weights, \(count)")
            XCTAssertEqual(m1, m2, "Adam first moment, \(count)")
            XCTAssertEqual(s1, s2, "Adam second moment, \(count)")

            var (a1, a2) = (randomValues(count, seed: seed + 4), [Float]())
            a2 = a1
            OptimizerKernels.exponentialAverage(&a1, of: gradient, decay: 0.9)
            OptimizerKernels.referenceExponentialAverage(&a2, of: gradient, decay: 0.9)
            XCTAssertEqual(a1, a2, "weight average, \(count)")
            var (l1, x1) = (randomValues(count, seed: seed + 5), gradient)
            var (l2, x2) = (l1, x1)
            OptimizerKernels.lookaheadStep(average: &l1, weights: &x1, keep: 0.3)
            OptimizerKernels.referenceLookaheadStep(average: &l2, weights: &x2, keep: 0.3)
            XCTAssertEqual(l1, l2, "lookahead average, \(count)")
            XCTAssertEqual(x1, x2, "lookahead weights, \(count)")
        }
    }

    func testCrossEntropyKernelsMatchTheirTwins() {
        let shapes = zip(sizes(8, 1...40, seed: 11), sizes(8, 2...12, seed: 12))
        for (index, (n, c)) in shapes.enumerated() {
            let logits = randomValues(n * c, seed: UInt64(500 + index), scale: 6)
            var random = SeededRandom(seed: UInt64(600 + index))
            let labels = (0..<n).map { _ in Int32(random.next() % UInt64(c)) }
            for smoothing: Float in [0, 0.2] {
                let buffer = FloatBuffer(), dLogits = FloatBuffer(capacity: n * c)
                buffer.load(logits)
                let fast = CrossEntropy.softmaxCrossEntropy(logits: buffer, labels: labels, classes: c, smoothing: smoothing,
                                                            dLogits: dLogits)
                let twin = CrossEntropyKernels.referenceSoftmaxCrossEntropy(logits: logits, labels: labels, classes: c,
                                                                            smoothing: smoothing)
                assertClose(fast.loss, twin.result.loss, rtol: 1e-5, atol: 1e-6, "loss \(n)×\(c)")
                XCTAssertEqual(fast.correct, twin.result.correct, "correct \(n)×\(c)")
                assertClose(dLogits.array(n * c), twin.dLogits, rtol: 1e-4, atol: 1e-7, "dLogits \(n)×\(c)")
            }
            var fast = [Float](repeating: 0.5, count: (n + 1) * c), twin = fast
            let buffer = FloatBuffer()
            buffer.load(logits)
            CrossEntropyKernels.accumulateSoftmax(buffer.pointer, rows: n, classes: c, weight: 0.25, into: &fast, offset: c)
            CrossEntropyKernels.referenceAccumulateSoftmax(logits, rows: n, classes: c, weight: 0.25, into: &twin, offset: c)
            assertClose(fast, twin, rtol: 1e-5, atol: 1e-6, "softmax \(n)×\(c)")
        }
    }

    func testWhiteningPatchSumsMatchTheirTwin() {
        for (index, (h, w, c, k)) in [(4, 4, 3, 2), (5, 3, 2, 3), (3, 3, 1, 3), (6, 7, 3, 2)].enumerated() {
            let g = ConvGeometry(height: h, width: w, inChannels: c, kernelHeight: k, kernelWidth: k, stride: 1, padding: 0,
                                 outChannels: 2 * k * k * c)
            let images = randomValues(3 * g.inputCount, seed: UInt64(700 + index))
            let buffer = FloatBuffer()
            buffer.load(images)
            var fast = [Double](repeating: 0, count: g.patchLength * g.patchLength), twin = fast
            let patches = WhiteningKernels.accumulatePatchProducts(g, images: buffer, count: 3, into: &fast)
            XCTAssertEqual(patches, 3 * (h - k + 1) * (w - k + 1))
            XCTAssertEqual(WhiteningKernels.referenceAccumulatePatchProducts(g, images: images, count: 3, into: &twin), patches)
            XCTAssertEqual(fast, twin, "\(h)×\(w)×\(c), \(k)×\(k)")
        }
    }
}
