// The plain twins of PoolingKernels: one window at a time on arrays (N×H×W×C), the obvious loops.
// The test oracle for the fast kernels (PerceptNetworkTests, KernelTwinTests).

extension PoolingKernels {
    /// The input index (into N×H×W×C) of window (n, oy, ox) row ky, column kx, channel j.
    private static func inputIndex(_ g: ConvGeometry, _ n: Int, _ oy: Int, _ ox: Int, _ ky: Int, _ kx: Int, _ j: Int) -> Int {
        ((n * g.height + oy * g.stride + ky) * g.width + ox * g.stride + kx) * g.inChannels + j
    }

    /// Each window's maximum (max) or mean (average), N×OH×OW×C.
    public static func referenceForward(_ g: ConvGeometry, kind: Pooling.Kind, x: [Float], batch: Int) -> [Float] {
        var y = [Float](repeating: 0, count: batch * g.outputCount)
        for n in 0..<batch {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    for j in 0..<g.inChannels {
                        var window: [Float] = []
                        for ky in 0..<g.kernelHeight {
                            for kx in 0..<g.kernelWidth { window.append(x[inputIndex(g, n, oy, ox, ky, kx, j)]) }
                        }
                        let o = ((n * g.outHeight + oy) * g.outWidth + ox) * g.inChannels + j
                        y[o] = kind == .max ? window.max()! : window.reduce(0, +) / Float(window.count)
                    }
                }
            }
        }
        return y
    }

    /// dX: max pooling routes each dY to the first input of its window (row-major) holding the
    /// maximum; average pooling spreads it evenly over the window. Overlapping windows add up.
    public static func referenceBackward(_ g: ConvGeometry, kind: Pooling.Kind, x: [Float], dy: [Float], batch: Int) -> [Float] {
        var dx = [Float](repeating: 0, count: batch * g.inputCount)
        let area = Float(g.kernelHeight * g.kernelWidth)
        for n in 0..<batch {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    for j in 0..<g.inChannels {
                        let d = dy[((n * g.outHeight + oy) * g.outWidth + ox) * g.inChannels + j]
                        var indices: [Int] = []
                        for ky in 0..<g.kernelHeight {
                            for kx in 0..<g.kernelWidth { indices.append(inputIndex(g, n, oy, ox, ky, kx, j)) }
                        }
                        if kind == .average {
                            for i in indices { dx[i] += d / area }
                        } else {
                            let largest = indices.map { x[$0] }.max()!
                            dx[indices.first { x[$0] == largest }!] += d
                        }
                    }
                }
            }
        }
        return dx
    }
}
