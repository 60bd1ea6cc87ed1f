import XCTest
import PerceptCore
import TestSupport
@testable import PerceptNetwork

final class ConvolutionTests: XCTestCase {
    /// (H, W, Cin, K, stride, padding, Cout)
    static let cases: [(Int, Int, Int, Int, Int, Int, Int)] = [
        (5, 5, 3, 3, 1, 1, 4),   // "same" 3×3
        (6, 7, 2, 3, 2, 1, 3),   // strided, odd width
        (5, 5, 2, 2, 1, 0, 3),   // 2×2 stem, no padding
        (4, 4, 3, 1, 1, 0, 5),   // pointwise (no im2col)
        (5, 4, 2, 1, 2, 0, 3),   // 1×1 projection with stride 2
        (7, 7, 2, 5, 2, 2, 2),   // 5×5, stride 2, padding 2
        (3, 3, 2, 3, 1, 0, 2),   // kernel as large as the input
        // Widths the direct AVX2 kernel takes (8…32 outputs; 64 goes to GEMM), odd widths for its edge tiles:
        (5, 7, 3, 3, 1, 1, 16),
        (6, 5, 4, 3, 2, 1, 32),
        (4, 5, 2, 3, 1, 1, 8),
        (3, 5, 5, 3, 1, 1, 24),
        (4, 3, 3, 3, 1, 1, 64),
        (5, 5, 3, 1, 2, 0, 16),  // 1×1 projection, stride 2
    ]

    func geometry(_ c: (Int, Int, Int, Int, Int, Int, Int)) -> ConvGeometry {
        ConvGeometry(height: c.0, width: c.1, inChannels: c.2, kernelHeight: c.3, kernelWidth: c.3, stride: c.4,
                     padding: c.5, outChannels: c.6)
    }

    /// Random input (3 images), weights and bias for case `c` from seeds `seed`, `seed + 100` and
    /// `seed + 200`, and their convolution by the naive reference.
    func randomProblem(_ c: (Int, Int, Int, Int, Int, Int, Int), seed: Int)
        -> (g: ConvGeometry, batch: Int, input: [Float], weight: [Float], bias: [Float], reference: [Float]) {
        let g = geometry(c)
        let batch = 3
        let input = randomValues(batch * g.inputCount, seed: UInt64(seed))
        let weight = randomValues(g.patchLength * g.outChannels, seed: UInt64(100 + seed))
        let bias = randomValues(g.outChannels, seed: UInt64(200 + seed))
        let reference = ConvKernels.referenceConvolution(g, input: input, batch: batch, weight: weight, bias: bias)
        return (g, batch, input, weight, bias, reference)
    }

    func testGEMMConvolutionMatchesTheNaiveDirectConvolution() {
        for (index, c) in Self.cases.enumerated() {
            let (g, batch, input, weight, bias, expected) = randomProblem(c, seed: index)
            for (parallelism, threads, direct) in [(Conv2D.Parallelism.blas, 1, false), (.blas, 2, false), (.batch, 2, false),
                                                   (.batch, 3, false), (.automatic, 2, true)] {
                let layer = Conv2D(name: "conv", geometry: g, weight: weight, bias: bias)
                layer.allowsWinograd = false  // Winograd has its own tests below
                layer.allowsDirectConvolution = direct
                layer.parallelism = parallelism
                layer.threads = threads
                // A column budget of one image forces several chunks.
                layer.columnBudget = 1
                assertClose(outputOf(layer, input, batch: batch), expected, rtol: 1e-5, atol: 1e-5, "case \(c) \(parallelism)×\(threads)")
            }
        }
    }

    func testConvolutionGradientsMatchFiniteDifferences() {
        for (index, c) in Self.cases.enumerated() {
            let g = geometry(c)
            var random = SeededRandom(seed: UInt64(index))
            let layer = Conv2D(name: "conv\(index)", geometry: g, bias: true, random: &random)
            layer.columnBudget = g.outHeight * g.outWidth * g.patchLength  // one image per chunk
            layer.parallelism = index % 2 == 0 ? .batch : .blas            // both ways of sharing the batch
            layer.allowsWinograd = false
            checkGradients(layer, input: randomValues(3 * g.inputCount, seed: 7), batch: 3)
        }
    }

    /// 3×3 stride-1 layers for Winograd: odd and even maps (edge tiles of both tile sizes), padding
    /// 0/1/2, channel counts below, at and past the 8-lane vectors.
    static let winogradCases: [(Int, Int, Int, Int, Int, Int, Int)] = [
        (5, 5, 3, 3, 1, 1, 4), (6, 7, 8, 3, 1, 1, 16), (7, 7, 11, 3, 1, 0, 9), (4, 5, 16, 3, 1, 2, 8),
        (3, 3, 24, 3, 1, 1, 64), (8, 8, 9, 3, 1, 1, 17), (2, 2, 5, 3, 1, 1, 3), (9, 10, 8, 3, 1, 1, 8),
    ]
    static let winogradTiles: [WinogradTile] = [.two, .four]

    func testWinogradMatchesTheNaiveConvolution() {
        for (index, c) in Self.winogradCases.enumerated() {
            let (g, batch, input, weight, bias, expected) = randomProblem(c, seed: 300 + index)
            XCTAssertTrue(ConvKernels.winogradApplies(g))
            for tile in Self.winogradTiles {
                for (threads, budget) in [(1, 1 << 20), (2, 1), (3, 1 << 20)] {  // budget 1: one image per chunk
                    let layer = Conv2D(name: "conv", geometry: g, weight: weight, bias: bias)
                    layer.forcesWinograd = true
                    layer.winogradTile = tile
                    layer.threads = threads
                    layer.winogradBudget = budget
                    assertClose(outputOf(layer, input, batch: batch), expected, rtol: 1e-4, atol: 1e-4,
                                "case \(c) F(\(tile.rawValue)) ×\(threads)")
                }
            }
        }
        XCTAssertFalse(ConvKernels.winogradApplies(geometry((6, 7, 2, 3, 2, 1, 3))))  // strided
        XCTAssertFalse(ConvKernels.winogradApplies(geometry((7, 7, 2, 5, 2, 2, 2))))  // 5×5
        // Where it is used unforced: wide layers both ways, narrow inputs only backward, RGB never.
        XCTAssertTrue(ConvKernels.prefersWinograd(geometry((15, 15, 64, 3, 1, 1, 256)), forward: true))
        XCTAssertTrue(ConvKernels.prefersWinograd(geometry((32, 32, 8, 3, 1, 1, 16)), forward: false))
        XCTAssertFalse(ConvKernels.prefersWinograd(geometry((32, 32, 8, 3, 1, 1, 16)), forward: true))
        XCTAssertFalse(ConvKernels.prefersWinograd(geometry((32, 32, 3, 3, 1, 1, 16)), forward: false))
        XCTAssertEqual(ConvKernels.preferredWinogradTile(geometry((7, 7, 256, 3, 1, 1, 256))), .four)
        XCTAssertEqual(ConvKernels.preferredWinogradTile(geometry((2, 2, 64, 3, 1, 1, 64))), .two)
    }

    func testWinogradGradientsMatchFiniteDifferencesAndTheGEMMPath() {
        for (index, c) in Self.winogradCases.enumerated() {
            let g = geometry(c)
            var random = SeededRandom(seed: UInt64(index))
            let layer = Conv2D(name: "wino\(index)", geometry: g, bias: true, random: &random)
            layer.forcesWinograd = true
            layer.threads = index % 2 + 1
            layer.winogradBudget = index % 3 == 0 ? 1 : 1 << 20
            let input = randomValues(3 * g.inputCount, seed: 9)
            checkGradients(layer, input: input, batch: 3)
            // The same gradients as im2col + GEMM, to rounding.
            let dOutput = randomValues(3 * g.outputCount, seed: 10)
            func gradients(_ winograd: Bool, tile: WinogradTile?) -> (dx: [Float], dw: [Float]) {
                let twin = Conv2D(name: "twin", geometry: g, weight: layer.weight.value, bias: layer.bias?.value)
                twin.allowsWinograd = winograd
                twin.forcesWinograd = winograd
                twin.winogradTile = tile
                twin.threads = layer.threads
                let x = FloatBuffer(capacity: input.count), dy = FloatBuffer(capacity: dOutput.count)
                for i in input.indices { x.pointer[i] = input[i] }
                for i in dOutput.indices { dy.pointer[i] = dOutput[i] }
                _ = twin.forward(x, batch: 3, mode: .training)
                let dx = twin.backward(dy, batch: 3).array(input.count)
                return (dx, twin.weight.gradient)
            }
            let slow = gradients(false, tile: nil)
            for tile in Self.winogradTiles {
                let fast = gradients(true, tile: tile)
                assertClose(fast.dx, slow.dx, rtol: 1e-4, atol: 1e-4, "dx \(c) F(\(tile.rawValue))")
                assertClose(fast.dw, slow.dw, rtol: 1e-4, atol: 1e-4, "dw \(c) F(\(tile.rawValue))")
            }
        }
    }

    /// The inference epilogue (bias, residual addend, ReLU or GELU) fused into the store of the direct
    /// kernel and Winograd's output transform, and applied after the GEMM: f(conv(X, W) + b + addend)
    /// by the naive convolution, f by its Double definition (GELU = ½x(1 + erf(x/√2))).
    func testFusedEpilogueMatchesConvolutionThenAddThenActivation() {
        func activated(_ x: Float, _ f: Activation.Function?) -> Float {
            switch f {
            case nil: x
            case .relu: max(x, 0)
            case .gelu: Float(0.5 * Double(x) * (1 + erf(Double(x) / 2.0.squareRoot())))
            }
        }
        for (index, c) in Self.cases.enumerated() {
            let (g, batch, input, weight, bias, reference) = randomProblem(c, seed: index)
            let addend = randomValues(batch * g.outputCount, seed: UInt64(300 + index))
            for activation in [nil, Activation.Function.relu, .gelu] {
                let expected = zip(reference, addend).map { activated($0 + $1, activation) }
                for direct in [false, true] {
                    let output = FloatBuffer(capacity: batch * g.outputCount)
                    let chunk = ConvKernels.chunkImages(g, batch: batch, floatBudget: 1)
                    let col = UnsafeMutablePointer<Float>.allocate(capacity: chunk * g.outHeight * g.outWidth * g.patchLength)
                    defer { col.deallocate() }
                    input.withUnsafeBufferPointer { x in
                        addend.withUnsafeBufferPointer { a in
                            ConvKernels.forward(g, input: x.baseAddress!, batch: batch, weight: weight, bias: bias,
                                                output: output.pointer, cols: [col], chunk: chunk, threads: 2, direct: direct,
                                                epilogue: ConvEpilogue(addend: a.baseAddress!, activation: activation))
                        }
                    }
                    assertClose(output.array(batch * g.outputCount), expected, rtol: 1e-5, atol: 1e-5,
                                "case \(c) direct \(direct) \(String(describing: activation))")
                }
            }
        }
        // Winograd's output transform, edge tiles included (odd maps write some outputs nowhere).
        for (index, c) in Self.winogradCases.enumerated() {
            let (g, batch, values, weight, bias, reference) = randomProblem(c, seed: index)
            let input = FloatBuffer()
            input.load(values)
            let addend = randomValues(batch * g.outputCount, seed: UInt64(300 + index))
            let layer = Conv2D(name: "conv", geometry: g, weight: weight, bias: bias)
            layer.forcesWinograd = true
            for (tile, activation) in Self.winogradTiles.flatMap({ t in [nil, Activation.Function.relu, .gelu].map { (t, $0) } }) {
                layer.winogradTile = tile
                let expected = zip(reference, addend).map { activated($0 + $1, activation) }
                let output = addend.withUnsafeBufferPointer { a in
                    layer.forward(input, batch: batch, epilogue: ConvEpilogue(addend: a.baseAddress!, activation: activation))
                        .array(batch * g.outputCount)
                }
                assertClose(output, expected, rtol: 1e-4, atol: 1e-4,
                            "Winograd F(\(tile.rawValue)) case \(c) \(String(describing: activation))")
            }
        }
    }

    func testDirectKernelRunsWhereItShould() {
        let narrow = geometry((5, 7, 3, 3, 1, 1, 16)), odd = geometry((5, 7, 3, 3, 1, 1, 12))
        XCTAssertFalse(ConvKernels.directConvolutionAvailable(odd))
        XCTAssertFalse(ConvKernels.directConvolutionAvailable(geometry((4, 4, 3, 1, 1, 0, 16))))  // pointwise: GEMM
        // On an AVX2 + FMA machine (every x86-64 CI runner here) the narrow layer takes the direct path.
        #if arch(x86_64)
        XCTAssertTrue(ConvKernels.directConvolutionAvailable(narrow))
        #endif
    }

    func testKnownAnswer() {
        // A 3×3 single-channel image, 2×2 kernel of ones, no padding: sums of 2×2 windows.
        let g = ConvGeometry(height: 3, width: 3, inChannels: 1, kernelHeight: 2, kernelWidth: 2, stride: 1, padding: 0,
                             outChannels: 1)
        let layer = Conv2D(name: "c", geometry: g, weight: [1, 1, 1, 1], bias: [0.5])
        XCTAssertEqual(outputOf(layer, [1, 2, 3, 4, 5, 6, 7, 8, 9], batch: 1), [12.5, 16.5, 24.5, 28.5])
    }

    func testLinearIsAMatrixProduct() {
        // x = [1, 2], W = [[1, 2, 3], [4, 5, 6]] (D×units), b = [0.5, 0, -1] → [9.5, 12, 14]
        let layer = Linear(name: "fc", inputCount: 2, units: 3, weight: [1, 2, 3, 4, 5, 6], bias: [0.5, 0, -1])
        XCTAssertEqual(outputOf(layer, [1, 2], batch: 1), [9.5, 12, 14])
        var random = SeededRandom(seed: 3)
        checkGradients(Linear(name: "fc", inputCount: 6, units: 4, bias: true, random: &random),
                       input: randomValues(18, seed: 4), batch: 3)
    }
}
