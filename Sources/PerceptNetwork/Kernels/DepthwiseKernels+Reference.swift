// The plain twins of DepthwiseKernels: one output element at a time on arrays (N×H×W×C), the
// obvious loops with the padding tested element by element. The input gradient is scattered from
// each output (the fast kernel gathers), so the two are written differently. The test oracle for
// the fast kernels (PerceptNetworkTests, DepthwiseTests).

extension DepthwiseKernels {
    /// The input index of output (n, oy, ox) at tap (ky, kx), channel j; nil where it is padding.
    private static func inputIndex(_ g: DepthwiseGeometry, _ n: Int, _ oy: Int, _ ox: Int, _ ky: Int, _ kx: Int,
                                   _ j: Int) -> Int? {
        let iy = oy * g.stride - g.top + ky, ix = ox * g.stride - g.left + kx
        guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { return nil }
        return ((n * g.height + iy) * g.width + ix) * g.channels + j
    }

    private static func outputIndex(_ g: DepthwiseGeometry, _ n: Int, _ oy: Int, _ ox: Int, _ j: Int) -> Int {
        ((n * g.outHeight + oy) * g.outWidth + ox) * g.channels + j
    }

    private static func weightIndex(_ g: DepthwiseGeometry, _ ky: Int, _ kx: Int, _ j: Int) -> Int {
        (ky * g.kernel + kx) * g.channels + j
    }

    /// Y (N×OH×OW×C) = Σ taps X·W + b, clipped to 0…6 when `clipsToSix`.
    public static func referenceForward(_ g: DepthwiseGeometry, x: [Float], batch: Int, weight: [Float], bias: [Float]?,
                                        clipsToSix: Bool = false) -> [Float] {
        var y = [Float](repeating: 0, count: batch * g.outputCount)
        for n in 0..<batch {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    for j in 0..<g.channels {
                        var sum = bias?[j] ?? 0
                        for ky in 0..<g.kernel {
                            for kx in 0..<g.kernel {
                                if let i = inputIndex(g, n, oy, ox, ky, kx, j) { sum += x[i] * weight[weightIndex(g, ky, kx, j)] }
                            }
                        }
                        y[outputIndex(g, n, oy, ox, j)] = clipsToSix ? min(max(sum, 0), 6) : sum
                    }
                }
            }
        }
        return y
    }

    /// dX: each dY spread back over its window, weighted by the filter.
    public static func referenceInputGradient(_ g: DepthwiseGeometry, dy: [Float], batch: Int, weight: [Float]) -> [Float] {
        var dx = [Float](repeating: 0, count: batch * g.inputCount)
        for n in 0..<batch {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    for j in 0..<g.channels {
                        let d = dy[outputIndex(g, n, oy, ox, j)]
                        for ky in 0..<g.kernel {
                            for kx in 0..<g.kernel {
                                if let i = inputIndex(g, n, oy, ox, ky, kx, j) { dx[i] += d * weight[weightIndex(g, ky, kx, j)] }
                            }
                        }
                    }
                }
            }
        }
        return dx
    }

    /// dW (K×K×C) = Σ dY·X at each tap, and dB (C) = Σ dY.
    public static func referenceWeightGradient(_ g: DepthwiseGeometry, x: [Float], dy: [Float],
                                               batch: Int) -> (dWeight: [Float], dBias: [Float]) {
        var dWeight = [Float](repeating: 0, count: g.weightCount), dBias = [Float](repeating: 0, count: g.channels)
        for n in 0..<batch {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    for j in 0..<g.channels {
                        let d = dy[outputIndex(g, n, oy, ox, j)]
                        dBias[j] += d
                        for ky in 0..<g.kernel {
                            for kx in 0..<g.kernel {
                                if let i = inputIndex(g, n, oy, ox, ky, kx, j) { dWeight[weightIndex(g, ky, kx, j)] += d * x[i] }
                            }
                        }
                    }
                }
            }
        }
        return (dWeight, dBias)
    }
}
