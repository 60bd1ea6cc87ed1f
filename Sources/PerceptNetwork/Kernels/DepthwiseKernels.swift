import CNetworkKernels
import PerceptCore

// Depthwise convolution over NHWC activations: channel j of the output sees only channel j of the
// input, through its own K×K filter (weights K×K×C, channels innermost). With channels innermost
// every inner loop runs over a contiguous run of channels, eight at a time in SIMD8 registers, so
// no im2col is needed: the layer is memory-bound, not arithmetic-bound (K² multiply-adds a load).
// Swift compiles for baseline x86-64 (SSE: a SIMD8 is two XMM registers, no FMA), so the stride-1
// forward pass runs the AVX2 + FMA kernel of CNetworkKernels (depthwise.c) where the CPU has it,
// and the SIMD8 loop below elsewhere (`usesAVX2: false` runs it anyway, for the tests).
// Parallel over output rows (forward), input rows (input gradient) and fixed chunks of rows
// (weight gradient, whose partial sums are added in chunk order so threads never change a bit).

public enum DepthwiseKernels {
    @inline(__always) static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// The filter taps (start..<end) that land inside a side of `size` when the window starts at `origin`.
    @inline(__always) static func taps(origin: Int, kernel: Int, size: Int) -> Range<Int> {
        let start = max(0, -origin)
        return start..<max(start, min(kernel, size - origin))
    }

    /// Y = depthwise(X, W) + b, then clipped to 0…6 when `clipsToSix` (ReLU6 fused into the store).
    /// Each output pixel's sums stay in registers, eight channels at a time.
    public static func forward(_ g: DepthwiseGeometry, input: UnsafePointer<Float>, batch: Int, weight: [Float],
                               bias: [Float]?, clipsToSix: Bool, output: UnsafeMutablePointer<Float>, threads: Int,
                               usesAVX2: Bool = true) {
        weight.withUnsafeBufferPointer { weight in
            if let bias {
                bias.withUnsafeBufferPointer { bias in
                    forward(g, input: input, batch: batch, weight: weight.baseAddress!, bias: bias.baseAddress!,
                            clipsToSix: clipsToSix, output: output, threads: threads, usesAVX2: usesAVX2)
                }
            } else {
                forward(g, input: input, batch: batch, weight: weight.baseAddress!, bias: nil, clipsToSix: clipsToSix,
                        output: output, threads: threads, usesAVX2: usesAVX2)
            }
        }
    }

    static func forward(_ g: DepthwiseGeometry, input: UnsafePointer<Float>, batch: Int,
                        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, clipsToSix: Bool,
                        output: UnsafeMutablePointer<Float>, threads: Int, usesAVX2: Bool) {
        let c = g.channels, k = g.kernel, oh = g.outHeight, ow = g.outWidth, w = g.width
        let six = SIMD8<Float>(repeating: 6)
        Parallel.forEachChunk(count: batch * oh, threads: threads, minimumChunk: 2) { rows in
            // The AVX2 blocks at every stride: at stride 2 they were measured 3–6× the SIMD8 loop (issue 15, RESULTS.md).
            if usesAVX2, percept_depthwise_forward_nhwc(
                input, weight, bias, output, rows.lowerBound, rows.upperBound, Int32(g.height), Int32(w), Int32(c),
                Int32(k), Int32(g.stride), Int32(g.top), Int32(g.left), Int32(oh), Int32(ow), clipsToSix ? 1 : 0) == 1 {
                return
            }
            for r in rows {
                let image = input + (r / oh) * g.inputCount
                let y0 = (r % oh) * g.stride - g.top
                let rowsInside = taps(origin: y0, kernel: k, size: g.height)
                for ox in 0..<ow {
                    let x0 = ox * g.stride - g.left
                    let columnsInside = taps(origin: x0, kernel: k, size: w)
                    let out = output + (r * ow + ox) * c
                    var j = 0
                    while j + 8 <= c {
                        var sum = bias.map { load8($0 + j) } ?? .zero
                        for ky in rowsInside {
                            for kx in columnsInside {
                                sum += load8(image + ((y0 + ky) * w + x0 + kx) * c + j)
                                    * load8(weight + (ky * k + kx) * c + j)
                            }
                        }
                        if clipsToSix { sum = pointwiseMin(pointwiseMax(sum, .zero), six) }
                        store8(sum, out + j)
                        j += 8
                    }
                    while j < c {
                        var sum = bias?[j] ?? 0
                        for ky in rowsInside {
                            for kx in columnsInside {
                                sum += image[((y0 + ky) * w + x0 + kx) * c + j] * weight[(ky * k + kx) * c + j]
                            }
                        }
                        out[j] = clipsToSix ? min(max(sum, 0), 6) : sum
                        j += 1
                    }
                }
            }
        }
    }

    /// dX[iy, ix] = Σ over the outputs whose window covers (iy, ix) of dY·W at that tap: gathered
    /// per input row, so every worker writes only its own rows.
    public static func inputGradient(_ g: DepthwiseGeometry, dOutput: UnsafePointer<Float>, batch: Int,
                                     weight: [Float], dInput: UnsafeMutablePointer<Float>, threads: Int) {
        weight.withUnsafeBufferPointer { weight in
            inputGradient(g, dOutput: dOutput, batch: batch, weight: weight.baseAddress!, dInput: dInput, threads: threads)
        }
    }

    static func inputGradient(_ g: DepthwiseGeometry, dOutput: UnsafePointer<Float>, batch: Int,
                              weight: UnsafePointer<Float>, dInput: UnsafeMutablePointer<Float>, threads: Int) {
        let c = g.channels, k = g.kernel, s = g.stride, oh = g.outHeight, ow = g.outWidth, h = g.height
        Parallel.forEachChunk(count: batch * h, threads: threads, minimumChunk: 2) { rows in
            for r in rows {
                let n = r / h, iy = r % h
                let dRow = dInput + r * g.width * c
                dRow.update(repeating: 0, count: g.width * c)
                for ky in 0..<k {
                    // Output row oy reads this input row at tap ky when oy·s − top + ky = iy.
                    let t = iy + g.top - ky
                    guard t >= 0, t % s == 0, t / s < oh else { continue }
                    let dyRow = dOutput + (n * oh + t / s) * ow * c
                    for ix in 0..<g.width {
                        let dx = dRow + ix * c
                        for kx in 0..<k {
                            let u = ix + g.left - kx
                            guard u >= 0, u % s == 0, u / s < ow else { continue }
                            multiplyAdd(dyRow + (u / s) * c, weight + (ky * k + kx) * c, into: dx, count: c)
                        }
                    }
                }
            }
        }
    }

    /// How many fixed chunks of output rows the weight gradient sums separately.
    public static func weightGradientChunks(_ g: DepthwiseGeometry, batch: Int) -> Int {
        min(16, max(1, batch * g.outHeight))
    }

    /// Floats of scratch `weightGradient` needs: each chunk's K×K×C + C partial sums.
    public static func weightGradientScratch(_ g: DepthwiseGeometry, batch: Int) -> Int {
        weightGradientChunks(g, batch: batch) * (g.weightCount + g.channels)
    }

    /// dW[ky, kx] = Σ over outputs of dY·X at that tap (overwriting `dWeight`, K×K×C), and dB = Σ dY
    /// into `dBias` when it holds C floats (an empty array: the layer has no bias).
    /// Each chunk of rows sums into its own slice of `partials`; the slices are then added in order.
    public static func weightGradient(_ g: DepthwiseGeometry, input: UnsafePointer<Float>, dOutput: UnsafePointer<Float>,
                                      batch: Int, dWeight: inout [Float], dBias: inout [Float],
                                      partials: UnsafeMutablePointer<Float>, threads: Int) {
        precondition(dWeight.count == g.weightCount && (dBias.isEmpty || dBias.count == g.channels))
        dWeight.withUnsafeMutableBufferPointer { dW in
            dBias.withUnsafeMutableBufferPointer { dB in
                weightGradient(g, input: input, dOutput: dOutput, batch: batch, dWeight: dW.baseAddress!,
                               dBias: dB.isEmpty ? nil : dB.baseAddress!, partials: partials, threads: threads)
            }
        }
    }

    static func weightGradient(_ g: DepthwiseGeometry, input: UnsafePointer<Float>, dOutput: UnsafePointer<Float>,
                               batch: Int, dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?,
                               partials: UnsafeMutablePointer<Float>, threads: Int) {
        let c = g.channels, k = g.kernel, oh = g.outHeight, ow = g.outWidth, w = g.width
        let chunks = weightGradientChunks(g, batch: batch), rowCount = batch * oh
        let stride = g.weightCount + c
        Parallel.forEachChunk(count: chunks, threads: threads) { chunkRange in
            for chunk in chunkRange {
                let partial = partials + chunk * stride
                partial.update(repeating: 0, count: stride)
                for r in (rowCount * chunk / chunks)..<(rowCount * (chunk + 1) / chunks) {
                    let image = input + (r / oh) * g.inputCount
                    let y0 = (r % oh) * g.stride - g.top
                    let rowsInside = taps(origin: y0, kernel: k, size: g.height)
                    for ox in 0..<ow {
                        let x0 = ox * g.stride - g.left
                        let dy = dOutput + (r * ow + ox) * c
                        accumulate(dy, into: partial + g.weightCount, count: c)
                        for ky in rowsInside {
                            for kx in taps(origin: x0, kernel: k, size: w) {
                                multiplyAdd(dy, image + ((y0 + ky) * w + x0 + kx) * c, into: partial + (ky * k + kx) * c,
                                            count: c)
                            }
                        }
                    }
                }
            }
        }
        dWeight.update(from: partials, count: g.weightCount)
        dBias?.update(from: partials + g.weightCount, count: c)
        for chunk in 1..<max(1, chunks) {
            accumulate(partials + chunk * stride, into: dWeight, count: g.weightCount)
            if let dBias { accumulate(partials + chunk * stride + g.weightCount, into: dBias, count: c) }
        }
    }

    /// target[j] += a[j]·b[j], eight channels at a time.
    @inline(__always) static func multiplyAdd(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                              into target: UnsafeMutablePointer<Float>, count: Int) {
        var j = 0
        while j + 8 <= count {
            store8(load8(target + j) + load8(a + j) * load8(b + j), target + j)
            j += 8
        }
        while j < count {
            target[j] += a[j] * b[j]
            j += 1
        }
    }

    /// target[j] += source[j].
    @inline(__always) static func accumulate(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>,
                                             count: Int) {
        for j in 0..<count { target[j] += source[j] }
    }
}
