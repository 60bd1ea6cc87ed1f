import PerceptCore
import PerceptNetwork

/// An ONNX `Conv` over NHWC values, with what followed it fused in (a folded BatchNorm in the bias,
/// a residual `Add`, an activation).
final class ConvolutionStep: GraphStep, @unchecked Sendable {
    /// How the convolution is computed.
    enum Kind {
        /// 1×1, stride 1, no padding: the input is already the matrix; one GEMM per tile of rows,
        /// the epilogue applied while the tile is still in cache. Weight Cin×Cout.
        case pointwise(pixels: Int, inChannels: Int, outChannels: Int)
        /// im2col + GEMM (or the engine's direct kernel for narrow layers), after copying the input
        /// into a padded image when ONNX's padding is not the same on every side. Weight K_H×K_W×Cin×Cout.
        case dense(ConvGeometry, padding: (top: Int, left: Int, bottom: Int, right: Int))
        /// One filter per channel (groups = channels). Weight K×K×C.
        case depthwise(DepthwiseGeometry)
    }

    let nodeName: String
    /// The input, then the residual addend when one is fused (`epilogue.addendInput` = 1).
    var inputs: [Int]
    let output: Int
    let kind: Kind
    /// In the layout of `kind`, output channels innermost (so a BatchNorm folds in as a scale of the last axis).
    var weight: [Float]
    var epilogue: GraphEpilogue
    /// The initialisers the weights came from, so trained weights can be written back into the graph.
    var origin: ConvolutionOrigin?
    /// ∂loss/∂weight and ∂loss/∂bias of the latest backward pass (`GraphTrainer`).
    var weightGradient: [Float] = []
    var biasGradient: [Float] = []
    /// Rows of the pointwise GEMM done at once: input and output tile together about 256 KB, so
    /// the epilogue reads the result from cache.
    var pointwiseTileFloats = 1 << 16

    init(nodeName: String, input: Int, output: Int, kind: Kind, weight: [Float], epilogue: GraphEpilogue) {
        self.nodeName = nodeName
        self.inputs = [input]
        self.output = output
        self.kind = kind
        self.weight = weight
        self.epilogue = epilogue
    }

    var flopsPerItem: Int {
        switch kind {
        case .pointwise(let pixels, let cin, let cout): return 2 * pixels * cin * cout
        case .dense(let g, _): return g.forwardFlops
        case .depthwise(let g): return g.forwardFlops
        }
    }

    var kindDescription: String {
        switch kind {
        case .pointwise: return "pointwise"
        case .dense(let g, _): return "dense \(g.kernelHeight)×\(g.kernelWidth)/\(g.stride)"
        case .depthwise(let g): return "depthwise \(g.kernel)×\(g.kernel)/\(g.stride)"
        }
    }

    func scratchCount(batch: Int) -> Int {
        guard case .dense(let g, let pad) = kind else { return 0 }
        let padded = needsPaddedCopy(pad) ? batch * g.inputCount : 0
        return padded + ConvKernels.chunkImages(g, batch: batch, floatBudget: 1 << 21) * g.outHeight * g.outWidth * g.patchLength
    }

    private func needsPaddedCopy(_ pad: (top: Int, left: Int, bottom: Int, right: Int)) -> Bool {
        !(pad.top == pad.left && pad.left == pad.bottom && pad.bottom == pad.right)
    }

    func run(_ buffers: StepBuffers, batch: Int) {
        let addend = epilogue.addendInput.map { buffers.inputs[$0] }
        switch kind {
        case .pointwise(let pixels, let cin, let cout):
            let rows = batch * pixels
            let tile = max(16, pointwiseTileFloats / (cin + cout))
            weight.withUnsafeBufferPointer { w in
                var first = 0
                while first < rows {
                    let count = min(tile, rows - first)
                    BLAS.gemm(m: count, n: cout, k: cin, a: buffers.inputs[0] + first * cin, b: w.baseAddress!,
                              c: buffers.output + first * cout)
                    EpilogueKernels.apply(epilogue, output: buffers.output + first * cout, rows: count, columns: cout,
                                          addend: addend.map { $0 + first * cout })
                    first += count
                }
            }
        case .dense(let g, let pad):
            var source = buffers.inputs[0]
            var cols = buffers.scratch
            if needsPaddedCopy(pad) {
                let original = FeatureShape(height: g.height - pad.top - pad.bottom, width: g.width - pad.left - pad.right,
                                           channels: g.inChannels)
                LayoutKernels.pad(source, original, batch: batch, top: pad.top, left: pad.left, bottom: pad.bottom,
                                  right: pad.right, value: 0, into: buffers.scratch)
                source = UnsafePointer(buffers.scratch)
                cols = buffers.scratch + batch * g.inputCount
            }
            ConvKernels.forward(g, input: source, batch: batch, weight: weight, bias: epilogue.bias, output: buffers.output,
                                cols: [cols], chunk: ConvKernels.chunkImages(g, batch: batch, floatBudget: 1 << 21),
                                threads: 1, direct: true)
            var rest = epilogue
            rest.bias = nil
            EpilogueKernels.apply(rest, output: buffers.output, rows: batch, columns: g.outputCount, addend: addend)
        case .depthwise(let g):
            let fusesClip = epilogue.activation == .clip(0, 6) && addend == nil
            DepthwiseKernels.forward(g, input: buffers.inputs[0], batch: batch, weight: weight, bias: epilogue.bias,
                                     clipsToSix: fusesClip, output: buffers.output, threads: 1)
            var rest = epilogue
            rest.bias = nil
            if fusesClip { rest.activation = nil }
            EpilogueKernels.apply(rest, output: buffers.output, rows: batch, columns: g.outputCount, addend: addend)
        }
    }
}
