import XCTest
import PerceptCore
import TestSupport
@testable import PerceptNetwork

/// The depthwise convolution: known answers, its fast kernels against their plain twins on random
/// shapes, and its gradient against finite differences.
final class DepthwiseTests: XCTestCase {
    func testKnownAnswersWithSymmetricAndAsymmetricPadding() {
        // One channel, 3×3 image 1…9, a 3×3 kernel of ones: each output sums its window.
        let image: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        let same = DepthwiseConv2D(name: "dw", geometry: DepthwiseGeometry(height: 3, width: 3, channels: 1, kernel: 3,
                                                                            stride: 1, padding: 1),
                                   weight: [Float](repeating: 1, count: 9), bias: [0.5])
        XCTAssertEqual(outputOf(same, image, batch: 1), [12, 21, 16, 27, 45, 33, 24, 39, 28].map { $0 + 0.5 })
        // TensorFlow "same" at stride 2 on 3×3: output 2×2, padding 1 on every side.
        let tf = DepthwiseGeometry.same(height: 3, width: 3, channels: 1, kernel: 3, stride: 2)
        XCTAssertEqual([tf.top, tf.left, tf.bottom, tf.right], [1, 1, 1, 1])
        // On 4×4 the odd zero goes to the bottom and right: (0, 0, 1, 1), output 2×2.
        let even = DepthwiseGeometry.same(height: 4, width: 4, channels: 1, kernel: 3, stride: 2)
        XCTAssertEqual([even.top, even.left, even.bottom, even.right, even.outHeight, even.outWidth], [0, 0, 1, 1, 2, 2])
        let layer = DepthwiseConv2D(name: "dw", geometry: even, weight: [Float](repeating: 1, count: 9), bias: nil)
        let x = (1...16).map(Float.init)
        // Windows at (0,0) rows 0–2 cols 0–2; (0,2) cols 2–3 and a padded column; (2,·) rows 2–3.
        XCTAssertEqual(outputOf(layer, x, batch: 1), [54, 45, 72, 54])
    }

    func testFusedReLU6ClipsTheOutput() {
        let g = DepthwiseGeometry(height: 1, width: 3, channels: 2, kernel: 1, stride: 1, padding: 0)
        let layer = DepthwiseConv2D(name: "dw", geometry: g, weight: [2, -1], bias: [0, 0], clipsToSix: true)
        XCTAssertEqual(outputOf(layer, [1, 1, 4, 2, -1, -9], batch: 1), [2, 0, 6, 0, 0, 6])
    }

    /// Channels 1, 7, 32, 96 (scalar tail, SIMD blocks, both); kernels 3 and 5; strides 1 and 2;
    /// symmetric and asymmetric padding; batches 1 and 3 on 1–3 threads; with and without bias and ReLU6.
    func testKernelsMatchTheirTwins() {
        var random = SeededRandom(seed: 11)
        var index = 0
        for channels in [1, 7, 32, 96] {
            for kernel in [3, 5] {
                for stride in [1, 2] {
                    for asymmetric in [false, true] {
                        for batch in [1, 3] {
                            index += 1
                            let height = 5 + Int(random.next() % 6), width = 5 + Int(random.next() % 6)
                            let g = asymmetric
                                ? DepthwiseGeometry(height: height, width: width, channels: channels, kernel: kernel,
                                                    stride: stride, padding: (kernel / 2 - 1, kernel / 2, kernel / 2, kernel / 2 - 1))
                                : DepthwiseGeometry(height: height, width: width, channels: channels, kernel: kernel,
                                                    stride: stride, padding: kernel / 2)
                            check(g, batch: batch, threads: 1 + index % 3, bias: index % 2 == 0, clipsToSix: index % 4 == 1,
                                  seed: UInt64(index))
                        }
                    }
                }
            }
        }
    }

    private func check(_ g: DepthwiseGeometry, batch: Int, threads: Int, bias: Bool, clipsToSix: Bool, seed: UInt64) {
        let weight = randomValues(g.weightCount, seed: seed &+ 100)
        let biasValues = bias ? randomValues(g.channels, seed: seed &+ 200) : nil
        let layer = DepthwiseConv2D(name: "dw", geometry: g, weight: weight, bias: biasValues, clipsToSix: clipsToSix)
        layer.threads = threads
        let x = randomValues(batch * g.inputCount, seed: seed &+ 300, scale: 4)
        let dy = randomValues(batch * g.outputCount, seed: seed &+ 400)
        let message = "\(batch)×\(g.height)×\(g.width)×\(g.channels) k\(g.kernel) s\(g.stride) "
            + "pad \([g.top, g.left, g.bottom, g.right]) bias \(bias) relu6 \(clipsToSix), \(threads) threads"
        let expected = DepthwiseKernels.referenceForward(g, x: x, batch: batch, weight: weight, bias: biasValues,
                                                         clipsToSix: clipsToSix)
        // The SIMD8 fallback, then the AVX2 kernel where this CPU has it (its state feeds backward).
        for allowsAVX2 in [false, true] {
            layer.allowsAVX2 = allowsAVX2
            let y = outputOf(layer, x, batch: batch)
            assertClose(y, expected, rtol: 1e-5, atol: 1e-5, "forward, AVX2 \(allowsAVX2), \(message)")
        }
        let dOutput = FloatBuffer()
        dOutput.load(dy)
        let dx = layer.backward(dOutput, batch: batch).array(batch * g.inputCount)
        // Through the fused ReLU6 the twins see dY already masked by 0 < y < 6.
        let dz = clipsToSix ? zip(dy, expected).map { d, y in y > 0 && y < 6 ? d : 0 } : dy
        assertClose(dx, DepthwiseKernels.referenceInputGradient(g, dy: dz, batch: batch, weight: weight),
                    rtol: 1e-4, atol: 1e-5, "dX, \(message)")
        let twin = DepthwiseKernels.referenceWeightGradient(g, x: x, dy: dz, batch: batch)
        assertClose(layer.weight.gradient, twin.dWeight, rtol: 1e-4, atol: 1e-4, "dW, \(message)")
        if let b = layer.bias { assertClose(b.gradient, twin.dBias, rtol: 1e-4, atol: 1e-4, "dB, \(message)") }
    }

    func testWeightGradientDoesNotDependOnTheThreadCount() {
        let g = DepthwiseGeometry(height: 9, width: 7, channels: 12, kernel: 3, stride: 1, padding: 1)
        let x = randomValues(4 * g.inputCount, seed: 1), dy = randomValues(4 * g.outputCount, seed: 2)
        let gradients = [1, 2, 3].map { threads -> [Float] in
            let layer = DepthwiseConv2D(name: "dw", geometry: g, weight: randomValues(g.weightCount, seed: 3), bias: nil)
            layer.threads = threads
            _ = outputOf(layer, x, batch: 4)
            let dOutput = FloatBuffer()
            dOutput.load(dy)
            _ = layer.backward(dOutput, batch: 4)
            return layer.weight.gradient
        }
        XCTAssertEqual(gradients[0], gradients[1])
        XCTAssertEqual(gradients[0], gradients[2])
    }

    func testGradientCheck() {
        for (kernel, stride) in [(3, 1), (3, 2), (5, 1), (5, 2)] {
            let g = DepthwiseGeometry(height: 7, width: 6, channels: 3, kernel: kernel, stride: stride,
                                      padding: (kernel / 2 - 1, kernel / 2, kernel / 2, kernel / 2 - 1))
            var random = SeededRandom(seed: UInt64(kernel * 10 + stride))
            let layer = DepthwiseConv2D(name: "dw.k\(kernel)s\(stride)", geometry: g, bias: true, random: &random)
            checkGradients(layer, input: randomValues(2 * g.inputCount, seed: 7), batch: 2)
        }
    }

    func testArchitectureFileBuildsDepthwiseLayersWithAsymmetricPadding() throws {
        let text = #"""
            {"name": "mbconv-ish", "layers": [
                {"type": "conv", "filters": 8, "kernel": 1, "padding": 0},
                {"type": "depthwise", "kernel": 3, "stride": 2, "padding": [0, 0, 1, 1], "bias": true, "relu6": true},
                {"type": "depthwise", "kernel": 5, "padding": 2},
                {"type": "globalavgpool"}, {"type": "linear"}]}
            """#
        let architecture = try JSONDecoder().decode(Architecture.self, from: Data(text.utf8))
        XCTAssertEqual(architecture.layers[1].padding, LayerPadding(top: 0, left: 0, bottom: 1, right: 1))
        XCTAssertEqual(architecture.layers[2].padding, 2)
        // Symmetric padding is written back as a plain number, asymmetric as four.
        let json = String(decoding: try JSONEncoder().encode(architecture), as: UTF8.self)
        XCTAssertTrue(json.contains(#""padding":[0,0,1,1]"#) && json.contains(#""padding":2"#), json)
        XCTAssertEqual(try JSONDecoder().decode(Architecture.self, from: Data(json.utf8)), architecture)

        let network = try Network(architecture: architecture, inputShape: FeatureShape(height: 8, width: 8, channels: 3),
                                  classCount: 4, seed: 1)
        let depthwise = try XCTUnwrap(network.layers[1] as? DepthwiseConv2D)
        XCTAssertEqual(depthwise.outputShape, FeatureShape(height: 4, width: 4, channels: 8))
        XCTAssertTrue(depthwise.clipsToSix)
        XCTAssertEqual(depthwise.parameters.map(\.shape), [[3, 3, 8], [8]])
        XCTAssertEqual((network.layers[2] as? DepthwiseConv2D)?.outputShape, FeatureShape(height: 4, width: 4, channels: 8))
        // conv 1×1 (2·3·8·64) + depthwise 3×3 (2·9·8·16) + depthwise 5×5 (2·25·8·16) + linear (2·8·4).
        XCTAssertEqual(network.forwardFlopsPerImage, 2 * 3 * 8 * 64 + 2 * 9 * 8 * 16 + 2 * 25 * 8 * 16 + 2 * 8 * 4)
    }

    func testBadDepthwiseSpecsAreRejectedNamingTheLayer() throws {
        func error(_ layers: [LayerSpec]) -> String {
            do {
                _ = try Network(architecture: Architecture(name: "bad", layers: layers),
                                inputShape: FeatureShape(height: 4, width: 4, channels: 3), classCount: 2, seed: 0)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        let wide = error([.depthwise(kernel: 3, padding: LayerPadding(top: 0, left: 3, bottom: 0, right: 0), name: "dw")])
        XCTAssertTrue(wide.contains("'dw'") && wide.contains("0..<3"), wide)
        let big = error([.depthwise(kernel: 7, padding: 1, name: "big")])
        XCTAssertTrue(big.contains("'big'") && big.contains("does not fit"), big)
        let asymmetricConv = error([.conv(4), LayerSpec.depthwise(), .flatten, .linear()].enumerated().map { index, spec in
            var spec = spec
            if index == 0 { spec.padding = LayerPadding(top: 0, left: 0, bottom: 1, right: 1) }
            return spec
        })
        XCTAssertTrue(asymmetricConv.contains("depthwise"), asymmetricConv)
        XCTAssertThrowsError(try JSONDecoder().decode(LayerPadding.self, from: Data("[1, 2]".utf8)))
    }
}
