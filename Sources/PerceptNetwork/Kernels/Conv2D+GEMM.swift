import CNetworkKernels
import PerceptCore

// Convolution as matrix multiplication over NHWC activations (im2col + BLAS sgemm).
//
// For a chunk of n images, the im2col matrix has one row per output pixel (n·OH·OW rows) holding
// the K_H×K_W×Cin patch under it, in (ky, kx, ci) order; with weights stored K_H×K_W×Cin×Cout the
// convolution is one GEMM  Y[n·OH·OW, Cout] = Col × W.  In NHWC a patch row is K_H·K_W contiguous
// runs of Cin floats, so im2col is a series of short memcpys, and one GEMM covers many images
// (M = n·OH·OW is large even for 3×3 maps), which BLAS runs near its peak.
// Backward: dW = Colᵀ × dY (Col rebuilt from the input, cheaper than keeping it), dCol = dY × Wᵀ,
// and col2im adds each dCol row back onto the pixels it came from.
//
// NCHW with per-image GEMMs (Y[Cout, OH·OW] = W × Col) was measured slower here: see
// Benchmarks/RESULTS.md ("Tensor layout").

/// What an inference-time convolution does to its result before storing it, fused into the store
/// instead of costing a pass over the activations of its own: add `addend`, a tensor laid out like
/// the output (a residual shortcut), then apply `activation` (a following ReLU or GELU).
public struct ConvEpilogue {
    public var addend: UnsafePointer<Float>?
    public var activation: Activation.Function?
    public init(addend: UnsafePointer<Float>? = nil, activation: Activation.Function? = nil) {
        self.addend = addend
        self.activation = activation
    }
    /// Adds `addend` (a residual block's shortcut, the same shape as the output) before the activation.
    public init(adding addend: FloatBuffer, activation: Activation.Function?) {
        self.init(addend: UnsafePointer(addend.pointer), activation: activation)
    }
    public static var none: ConvEpilogue { ConvEpilogue() }
    var isNone: Bool { addend == nil && activation == nil }

    /// The C kernels' form, with the layer's bias.
    func kernelForm(bias: UnsafePointer<Float>?) -> percept_conv_epilogue {
        let code: Int32 = switch activation {
        case nil: PERCEPT_ACTIVATION_NONE
        case .relu: PERCEPT_ACTIVATION_RELU
        case .gelu: PERCEPT_ACTIVATION_GELU
        }
        return percept_conv_epilogue(bias: bias, addend: addend, activation: code)
    }
}

public enum ConvKernels {
    /// W·scale per output channel (the last axis of K_H×K_W×Cin×Cout): folds a following
    /// BatchNorm into the weights.
    static func scaleOutputChannels(_ weight: [Float], by scale: [Float], into result: inout [Float]) {
        let cout = scale.count
        result.removeAll(keepingCapacity: true)
        result.append(contentsOf: weight)
        result.withUnsafeMutableBufferPointer { w in
            for i in 0..<w.count { w[i] *= scale[i % cout] }
        }
    }

    /// Writes the im2col rows of images `first..<first+count` of `input` (N×H×W×Cin) into `col`
    /// (count·OH·OW × K_H·K_W·Cin). Zero padding is written as zeros.
    public static func im2col(_ g: ConvGeometry, input: UnsafePointer<Float>, first: Int, count: Int,
                              col: UnsafeMutablePointer<Float>, threads: Int) {
        let oh = g.outHeight, ow = g.outWidth, cin = g.inChannels, patch = g.patchLength
        Parallel.forEachChunk(count: count * oh, threads: threads, minimumChunk: 4) { rows in
            for r in rows {
                let item = r / oh, oy = r % oh
                let image = input + (first + item) * g.inputCount
                var out = col + r * ow * patch
                for ox in 0..<ow {
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.stride - g.padding + ky
                        if iy < 0 || iy >= g.height {
                            out.update(repeating: 0, count: g.kernelWidth * cin)
                            out += g.kernelWidth * cin
                            continue
                        }
                        let rowBase = image + iy * g.width * cin
                        let ix0 = ox * g.stride - g.padding
                        if ix0 >= 0 && ix0 + g.kernelWidth <= g.width {
                            // The whole kernel row lies inside: one contiguous run.
                            out.update(from: rowBase + ix0 * cin, count: g.kernelWidth * cin)
                            out += g.kernelWidth * cin
                        } else {
                            for kx in 0..<g.kernelWidth {
                                let ix = ix0 + kx
                                if ix < 0 || ix >= g.width {
                                    out.update(repeating: 0, count: cin)
                                } else {
                                    out.update(from: rowBase + ix * cin, count: cin)
                                }
                                out += cin
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds the im2col-shaped gradient `col` back onto `dInput` for images `first..<first+count`
    /// (the adjoint of `im2col`). `dInput` must be zeroed beforehand for those images.
    public static func col2im(_ g: ConvGeometry, col: UnsafePointer<Float>, first: Int, count: Int,
                              dInput: UnsafeMutablePointer<Float>, threads: Int) {
        let oh = g.outHeight, ow = g.outWidth, cin = g.inChannels, patch = g.patchLength
        // One worker per image: output rows of one image overlap on the input, images do not.
        Parallel.forEachChunk(count: count, threads: threads) { items in
            for item in items {
                let image = dInput + (first + item) * g.inputCount
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var source = col + ((item * oh + oy) * ow + ox) * patch
                        for ky in 0..<g.kernelHeight {
                            let iy = oy * g.stride - g.padding + ky
                            if iy < 0 || iy >= g.height { source += g.kernelWidth * cin; continue }
                            for kx in 0..<g.kernelWidth {
                                let ix = ox * g.stride - g.padding + kx
                                if ix >= 0 && ix < g.width {
                                    let target = image + (iy * g.width + ix) * cin
                                    for c in 0..<cin { target[c] += source[c] }
                                }
                                source += cin
                            }
                        }
                    }
                }
            }
        }
    }

    /// The reference twin: a direct seven-loop convolution, Y = conv(X, W) + b, in Double
    /// accumulation. Slow and obviously correct; the test oracle for the GEMM path.
    public static func referenceConvolution(_ g: ConvGeometry, input: [Float], batch: Int,
                                            weight: [Float], bias: [Float]?) -> [Float] {
        var output = [Float](repeating: 0, count: batch * g.outputCount)
        for n in 0..<batch {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    for co in 0..<g.outChannels {
                        var sum = Double(bias?[co] ?? 0)
                        for ky in 0..<g.kernelHeight {
                            for kx in 0..<g.kernelWidth {
                                let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
                                guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                                for ci in 0..<g.inChannels {
                                    let x = input[n * g.inputCount + (iy * g.width + ix) * g.inChannels + ci]
                                    let w = weight[((ky * g.kernelWidth + kx) * g.inChannels + ci) * g.outChannels + co]
                                    sum += Double(x) * Double(w)
                                }
                            }
                        }
                        output[n * g.outputCount + (oy * g.outWidth + ox) * g.outChannels + co] = Float(sum)
                    }
                }
            }
        }
        return output
    }
}

extension ConvKernels {
    /// How many images one im2col chunk holds: as many as fit `floatBudget` floats of im2col
    /// matrix (so the matrix stays near the caches and memory stays bounded), at least one.
    public static func chunkImages(_ g: ConvGeometry, batch: Int, floatBudget: Int) -> Int {
        max(1, min(batch, floatBudget / max(1, g.outHeight * g.outWidth * g.patchLength)))
    }

    /// Splits `batch` images over `workers`: worker w gets a contiguous block, cut into chunks of
    /// at most `chunk` images. With one worker BLAS may thread each GEMM; with several, each worker
    /// runs single-threaded BLAS on its own images and scratch (measured faster on 2 cores for
    /// the thin GEMMs of small layers, see RESULTS.md). The split depends only on `workers`.
    static func forEachWorker(batch: Int, workers: Int, _ body: (_ worker: Int, _ images: Range<Int>) -> Void) {
        if workers <= 1 {
            body(0, 0..<batch)
            return
        }
        BLAS.withThreadCount(1) {
            Parallel.forEachChunk(count: workers, threads: workers) { range in
                for w in range { body(w, (batch * w / workers)..<(batch * (w + 1) / workers)) }
            }
        }
    }

    /// Whether the direct AVX2 convolution (CNetworkKernels) can run this layer here: square kernels,
    /// 8–32 output channels (where im2col + GEMM is memory-bound), and a CPU with AVX2 + FMA.
    /// Measured against im2col + GEMM on ResNet-20's layers (conv-layout, 2 threads, loaded machine):
    /// stem 3→16 2.6× faster, 16→16 1.2×, 32→32 1.3×. 64 channels stay on Winograd: one 1-pixel tile
    /// was 0.7× of GEMM (bound by weight loads), and two 32-channel blocks of 2-pixel tiles left whole-
    /// network inference at 0.84× (ResNet-20) and 0.91× (airbench94) of Winograd's (session 4).
    public static func directConvolutionAvailable(_ g: ConvGeometry) -> Bool {
        g.kernelHeight == g.kernelWidth && [8, 16, 24, 32].contains(g.outChannels) && !g.isPointwise
            && percept_network_has_avx2_fma() == 1
    }

    /// Y = conv(X, W) + b, then the epilogue, by the direct kernel, images shared over `threads`
    /// workers. False (and nothing written) when the kernel cannot run this layer.
    public static func forwardDirect(_ g: ConvGeometry, input: UnsafePointer<Float>, batch: Int, weight: [Float],
                                     bias: [Float]? = nil, epilogue: ConvEpilogue = .none,
                                     output: UnsafeMutablePointer<Float>, threads: Int) -> Bool {
        guard directConvolutionAvailable(g) else { return false }
        withBias(bias) { b in
            let fused = epilogue.kernelForm(bias: b)
            weight.withUnsafeBufferPointer { w in
                Parallel.forEachChunk(count: batch, threads: threads) { images in
                    _ = percept_conv2d_direct_nhwc(input, w.baseAddress!, output, images.lowerBound, images.count,
                                                   Int32(g.height), Int32(g.width), Int32(g.inChannels), Int32(g.kernelHeight),
                                                   Int32(g.stride), Int32(g.padding), Int32(g.outChannels),
                                                   Int32(g.outHeight), Int32(g.outWidth), fused)
                }
            }
        }
        return true
    }

    /// Runs `body` with a pointer to `bias`'s floats, or nil.
    static func withBias<R>(_ bias: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let bias else { return body(nil) }
        return bias.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// Y += b, then the epilogue, in one pass over the R×C output (the GEMM path's store was BLAS's).
    static func finish(_ output: UnsafeMutablePointer<Float>, rows: Int, columns c: Int, bias: [Float]?,
                       epilogue: ConvEpilogue, threads: Int) {
        guard bias != nil || !epilogue.isNone else { return }
        withBias(bias) { b in
            Parallel.forEachChunk(count: rows, threads: threads, minimumChunk: 256) { range in
                for r in range {
                    let row = output + r * c
                    if let b { for j in 0..<c { row[j] += b[j] } }
                    if let addend = epilogue.addend.map({ $0 + r * c }) { for j in 0..<c { row[j] += addend[j] } }
                    switch epilogue.activation {
                    case .relu: for j in 0..<c { row[j] = max(row[j], 0) }
                    case .gelu: ActivationKernels.geluForward(row, row, count: c, threads: 1)
                    case nil: break
                    }
                }
            }
        }
    }

    /// Y = conv(X, W) + b for `batch` images: X is N×H×W×Cin, W is K_H×K_W×Cin×Cout, Y is N×OH×OW×Cout.
    /// `cols[w]` must hold `chunk·OH·OW·K_H·K_W·Cin` floats for each worker (unused for pointwise kernels).
    public static func forward(_ g: ConvGeometry, input: UnsafePointer<Float>, batch: Int,
                               weight: [Float], bias: [Float]?, output: UnsafeMutablePointer<Float>,
                               cols: [UnsafeMutablePointer<Float>], chunk: Int, threads: Int, direct: Bool = false,
                               epilogue: ConvEpilogue = .none) {
        let pixels = g.outHeight * g.outWidth
        let workers = cols.count
        if direct, forwardDirect(g, input: input, batch: batch, weight: weight, bias: bias, epilogue: epilogue,
                                 output: output, threads: threads) {
            return
        }
        weight.withUnsafeBufferPointer { w in
            forEachWorker(batch: batch, workers: workers) { worker, images in
                let col = cols[worker]
                let innerThreads = workers > 1 ? 1 : threads
                var first = images.lowerBound
                while first < images.upperBound {
                    let count = min(chunk, images.upperBound - first)
                    let rows = count * pixels
                    let a: UnsafePointer<Float>
                    if g.isPointwise {
                        a = input + first * g.inputCount
                    } else {
                        im2col(g, input: input, first: first, count: count, col: col, threads: innerThreads)
                        a = UnsafePointer(col)
                    }
                    BLAS.gemm(m: rows, n: g.outChannels, k: g.patchLength, a: a, b: w.baseAddress!,
                              c: output + first * g.outputCount)
                    first += count
                }
            }
        }
        finish(output, rows: batch * pixels, columns: g.outChannels, bias: bias, epilogue: epilogue, threads: threads)
    }

    /// Given dY, sets dW and, when `dInput` is given, dX. Same scratch as `forward`, plus one
    /// K_H·K_W·Cin×Cout partial dW per worker after the first (`partials`), summed in worker order.
    public static func backward(_ g: ConvGeometry, input: UnsafePointer<Float>, batch: Int,
                                weight: [Float], dOutput: UnsafePointer<Float>,
                                dWeight: inout [Float], dInput: UnsafeMutablePointer<Float>?,
                                cols: [UnsafeMutablePointer<Float>], partials: [UnsafeMutablePointer<Float>],
                                chunk: Int, threads: Int) {
        let pixels = g.outHeight * g.outWidth
        let workers = cols.count
        precondition(partials.count >= workers - 1, "backward: one partial dW per extra worker")
        let weightCount = g.patchLength * g.outChannels
        weight.withUnsafeBufferPointer { w in
            dWeight.withUnsafeMutableBufferPointer { dWeightBuffer in
                let dw0 = dWeightBuffer.baseAddress!
                forEachWorker(batch: batch, workers: workers) { worker, images in
                    let col = cols[worker]
                    let dw = worker == 0 ? dw0 : partials[worker - 1]
                    let innerThreads = workers > 1 ? 1 : threads
                    if let dInput {
                        (dInput + images.lowerBound * g.inputCount).update(repeating: 0, count: images.count * g.inputCount)
                    }
                    if images.isEmpty { dw.update(repeating: 0, count: weightCount) }
                    var first = images.lowerBound
                    while first < images.upperBound {
                        let count = min(chunk, images.upperBound - first)
                        let rows = count * pixels
                        let dy = dOutput + first * g.outputCount
                        let a: UnsafePointer<Float>
                        if g.isPointwise {
                            a = input + first * g.inputCount
                        } else {
                            im2col(g, input: input, first: first, count: count, col: col, threads: innerThreads)
                            a = UnsafePointer(col)
                        }
                        // dW (K_H·K_W·Cin × Cout) += Colᵀ × dY
                        BLAS.gemm(transposeA: true, m: g.patchLength, n: g.outChannels, k: rows, a: a, b: dy,
                                  beta: first == images.lowerBound ? 0 : 1, c: dw)
                        if let dInput {
                            if g.isPointwise {
                                BLAS.gemm(transposeB: true, m: rows, n: g.patchLength, k: g.outChannels, a: dy,
                                          b: w.baseAddress!, c: dInput + first * g.inputCount)
                            } else {
                                BLAS.gemm(transposeB: true, m: rows, n: g.patchLength, k: g.outChannels, a: dy,
                                          b: w.baseAddress!, c: col)
                                col2im(g, col: col, first: first, count: count, dInput: dInput, threads: innerThreads)
                            }
                        }
                        first += count
                    }
                }
                for worker in 1..<max(1, workers) {
                    let partial = partials[worker - 1]
                    for i in 0..<weightCount { dw0[i] += partial[i] }
                }
            }
        }
    }

    /// Column sums of an R×C matrix, accumulated in Double over 8 fixed row blocks (deterministic
    /// for any thread count); scratch space on the stack, so nothing is allocated.
    public static func columnSums(_ matrix: UnsafePointer<Float>, rows: Int, columns c: Int, into sums: inout [Float]) {
        precondition(sums.count == c, "columnSums: \(sums.count) outputs for \(c) columns")
        withUnsafeTemporaryAllocation(of: Double.self, capacity: c) { total in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: c) { partial in
                total.initialize(repeating: 0)
                let blocks = 8
                for block in 0..<blocks {
                    partial.initialize(repeating: 0)
                    for r in (rows * block / blocks)..<(rows * (block + 1) / blocks) {
                        let row = matrix + r * c
                        for j in 0..<c { partial[j] += row[j] }
                    }
                    for j in 0..<c { total[j] += Double(partial[j]) }
                }
                for j in 0..<c { sums[j] = Float(total[j]) }
            }
        }
    }
}
