import XCTest
import PerceptCore
import TestSupport
@testable import PerceptNetwork

final class LayerTests: XCTestCase {
    let shape = FeatureShape(height: 4, width: 4, channels: 3)

    func testBatchNormTrainingNormalisesEachChannel() {
        let layer = BatchNorm(name: "bn", shape: shape, epsilon: 0, scale: [1, 2, 3], shift: [0, 1, -1])
        let input = randomValues(2 * shape.count, seed: 1, scale: 3).map { $0 + 5 }
        let y = outputOf(layer, input, batch: 2)
        for c in 0..<3 {
            var values = [Double]()
            for i in stride(from: c, to: y.count, by: 3) { values.append(Double(y[i])) }
            let mean: Double = values.reduce(0, +) / Double(values.count)
            var variance: Double = 0
            for v in values { variance += (v - mean) * (v - mean) / Double(values.count) }
            assertClose(mean, [0.0, 1, -1][c], rtol: 0, atol: 1e-5)
            assertClose(variance, [1.0, 4, 9][c], rtol: 1e-4)
        }
    }

    func testBatchNormRunningStatisticsAndInference() {
        let layer = BatchNorm(name: "bn", shape: FeatureShape(vector: 1), epsilon: 0, momentum: 0.5)
        // Batch [1, 3]: mean 2, biased variance 1, unbiased 2.
        _ = outputOf(layer, [1, 3], batch: 2)
        assertClose(layer.runningMean.value, [0.5 * 0 + 0.5 * 2])
        assertClose(layer.runningVariance.value, [0.5 * 1 + 0.5 * 2])
        // Inference uses the running statistics: (x − 1)/√1.5.
        assertClose(outputOf(layer, [4], batch: 1, mode: .inference), [3 / Float(1.5).squareRoot()], rtol: 1e-6)
        // and does not change them.
        assertClose(layer.runningMean.value, [1])
    }

    func testBatchNormGradients() {
        let layer = BatchNorm(name: "bn", shape: shape, scale: [1, 0.5, 2], shift: [0.1, 0.2, 0.3])
        checkGradients(layer, input: randomValues(3 * shape.count, seed: 2, scale: 2), batch: 3)
    }

    func testActivationsKnownValues() {
        let relu = Activation(name: "relu", function: .relu, shape: FeatureShape(vector: 3))
        XCTAssertEqual(outputOf(relu, [-1, 0, 2], batch: 1), [0, 0, 2])
        let gelu = Activation(name: "gelu", function: .gelu, shape: FeatureShape(vector: 4))
        // x·Φ(x) from the exact erf (Double).
        let xs: [Float] = [-3, -0.5, 0.7, 2.5]
        let exact = xs.map { x in Float(0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot()))) }
        assertClose(outputOf(gelu, xs, batch: 1), exact, rtol: 1e-6, atol: 1e-6)
    }

    func testFastErfAndExpAgainstDouble() {
        for i in -600...600 {
            let x = Float(i) / 100
            XCTAssertEqual(ActivationKernels.fastErf(x), Float(erf(Double(x))), accuracy: 3e-7, "erf(\(x))")
            // Relative error grows with |x| (Float rounding of x·log₂e): within 1e-7·(3 + |x|) on [−30, 0].

            let e = ActivationKernels.fastExp(-abs(x) * 5)
            let expected = exp(Double(-abs(x) * 5))
            XCTAssertEqual(Double(e), expected, accuracy: 1e-7 * Double(3 + abs(x) * 5) * expected, "exp(\(-abs(x) * 5))")
        }
    }

    func testActivationGradients() {
        let input = distinctValues(2 * shape.count, seed: 3)
        checkGradients(Activation(name: "relu", function: .relu, shape: shape), input: input, batch: 2)
        checkGradients(Activation(name: "gelu", function: .gelu, shape: shape), input: input, batch: 2)
    }

    func testMaxPoolKnownAnswerAndGradients() {
        let pool = Pooling(name: "pool", kind: .max, shape: FeatureShape(height: 2, width: 4, channels: 1), kernel: 2, stride: 2)
        XCTAssertEqual(outputOf(pool, [1, 5, 2, 0, 3, 4, 8, 7], batch: 1), [5, 8])
        for (kernel, stride) in [(2, 2), (3, 2), (2, 1)] {
            let layer = Pooling(name: "max\(kernel)s\(stride)", kind: .max, shape: FeatureShape(height: 5, width: 5, channels: 2),
                                kernel: kernel, stride: stride)
            checkGradients(layer, input: distinctValues(2 * 50, seed: 4), batch: 2)
        }
    }

    func testAveragePoolKnownAnswerAndGradients() {
        let pool = Pooling(name: "avg", kind: .average, shape: FeatureShape(height: 2, width: 4, channels: 1), kernel: 2, stride: 2)
        XCTAssertEqual(outputOf(pool, [1, 5, 2, 0, 3, 4, 8, 7], batch: 1), [3.25, 4.25])
        let layer = Pooling(name: "avg3s2", kind: .average, shape: FeatureShape(height: 5, width: 5, channels: 2), kernel: 3, stride: 2)
        checkGradients(layer, input: randomValues(100, seed: 5), batch: 2)
    }

    func testGlobalPooling() {
        let s = FeatureShape(height: 2, width: 2, channels: 2)
        let input: [Float] = [1, -1, 4, 0, 2, 6, 3, 5]  // channel 0: 1 4 2 3; channel 1: -1 0 6 5
        XCTAssertEqual(outputOf(Pooling(name: "gmax", global: .max, shape: s), input, batch: 1), [4, 6])
        XCTAssertEqual(outputOf(Pooling(name: "gavg", global: .average, shape: s), input, batch: 1), [2.5, 2.5])
        checkGradients(Pooling(name: "gmax", global: .max, shape: shape), input: distinctValues(2 * shape.count, seed: 6), batch: 2)
        checkGradients(Pooling(name: "gavg", global: .average, shape: shape), input: randomValues(2 * shape.count, seed: 6), batch: 2)
    }

    func testDropout() {
        let layer = Dropout(name: "drop", rate: 0.5, shape: FeatureShape(vector: 1000), seed: 1)
        let y = outputOf(layer, Array(repeating: 1, count: 1000), batch: 1)
        XCTAssertTrue(y.allSatisfy { $0 == 0 || $0 == 2 })
        XCTAssertEqual(Double(y.filter { $0 == 0 }.count), 500, accuracy: 60)
        XCTAssertEqual(outputOf(layer, [1, 2, 3] + Array(repeating: 0, count: 997), batch: 1, mode: .inference).prefix(3), [1, 2, 3])
        let small = Dropout(name: "drop", rate: 0.3, shape: shape, seed: 2)
        checkGradients(small, input: randomValues(2 * shape.count, seed: 7), batch: 2, beforeForward: { small.step = 0 })
    }

    func testResidualAndFlattenAndScale() {
        var random = SeededRandom(seed: 8)
        let s = FeatureShape(height: 4, width: 4, channels: 2)
        let g = ConvGeometry(height: 4, width: 4, inChannels: 2, kernelHeight: 3, kernelWidth: 3, stride: 2, padding: 1, outChannels: 3)
        let projection = ConvGeometry(height: 4, width: 4, inChannels: 2, kernelHeight: 1, kernelWidth: 1, stride: 2, padding: 0,
                                      outChannels: 3)
        let block = Residual(name: "res",
                             body: [Conv2D(name: "c1", geometry: g, bias: true, random: &random),
                                    BatchNorm(name: "bn", shape: FeatureShape(height: 2, width: 2, channels: 3))],
                             shortcut: [Conv2D(name: "proj", geometry: projection, bias: false, random: &random)])
        checkGradients(block, input: randomValues(2 * s.count, seed: 9), batch: 2)
        // Identity shortcut: y = x + body(x).
        let same = ConvGeometry(height: 4, width: 4, inChannels: 2, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1, outChannels: 2)
        let identity = Residual(name: "id", body: [Conv2D(name: "c", geometry: same, weight: Array(repeating: 0, count: 36),
                                                          bias: [1, 2])], shortcut: [])
        let x = randomValues(s.count, seed: 10)
        assertClose(outputOf(identity, x, batch: 1), x.enumerated().map { $0.element + ($0.offset % 2 == 0 ? 1 : 2) })
        checkGradients(Residual(name: "id2", body: [Conv2D(name: "c", geometry: same, bias: true, random: &random)], shortcut: []),
                       input: randomValues(2 * s.count, seed: 11), batch: 2)
        let flatten = Flatten(name: "flat", shape: s)
        XCTAssertEqual(flatten.outputShape, FeatureShape(vector: 32))
        XCTAssertEqual(outputOf(flatten, x, batch: 1), x)
        checkGradients(Scale(name: "scale", factor: 1.0 / 9, shape: s), input: x, batch: 1)
    }
}

#if canImport(Glibc)
import Glibc
#endif
