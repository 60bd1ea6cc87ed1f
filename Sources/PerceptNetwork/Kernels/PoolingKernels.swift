import PerceptCore

// Pooling over NHWC activations. Max pooling records, for every output, the offset of the input
// it took (within the image), so backward is a scatter; average pooling spreads dY evenly.
// Windows that hang over the edge (no padding, floor division) are simply not produced.

public enum PoolingKernels {
    /// Max over K×K windows moved by `stride`; `argmax` gets each output's input offset in its image.
    public static func maxForward(_ g: ConvGeometry, x: UnsafePointer<Float>, batch: Int, y: UnsafeMutablePointer<Float>,
                                  argmax: UnsafeMutablePointer<Int32>, threads: Int) {
        let c = g.inChannels, oh = g.outHeight, ow = g.outWidth
        Parallel.forEachChunk(count: batch * oh, threads: threads, minimumChunk: 8) { rows in
            for r in rows {
                let n = r / oh, oy = r % oh
                let image = x + n * g.inputCount
                for ox in 0..<ow {
                    let o = (r * ow + ox) * c
                    let out = y + o, index = argmax + o
                    let first = ((oy * g.stride) * g.width + ox * g.stride) * c
                    for j in 0..<c { out[j] = image[first + j]; index[j] = Int32(first + j) }
                    for ky in 0..<g.kernelHeight {
                        for kx in 0..<g.kernelWidth where ky + kx > 0 {
                            let offset = ((oy * g.stride + ky) * g.width + ox * g.stride + kx) * c
                            let row = image + offset
                            for j in 0..<c where row[j] > out[j] {
                                out[j] = row[j]
                                index[j] = Int32(offset + j)
                            }
                        }
                    }
                }
            }
        }
    }

    /// dX = 0, then dX[argmax] += dY per image.
    public static func maxBackward(_ g: ConvGeometry, dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>, batch: Int,
                                   dx: UnsafeMutablePointer<Float>, threads: Int) {
        let outCount = g.outHeight * g.outWidth * g.inChannels
        Parallel.forEachChunk(count: batch, threads: threads) { items in
            for n in items {
                let image = dx + n * g.inputCount
                image.update(repeating: 0, count: g.inputCount)
                for i in (n * outCount)..<((n + 1) * outCount) { image[Int(argmax[i])] += dy[i] }
            }
        }
    }

    /// Mean over K×K windows moved by `stride`.
    public static func averageForward(_ g: ConvGeometry, x: UnsafePointer<Float>, batch: Int, y: UnsafeMutablePointer<Float>,
                                      threads: Int) {
        let c = g.inChannels, oh = g.outHeight, ow = g.outWidth
        let scale = 1 / Float(g.kernelHeight * g.kernelWidth)
        Parallel.forEachChunk(count: batch * oh, threads: threads, minimumChunk: 8) { rows in
            for r in rows {
                let n = r / oh, oy = r % oh
                let image = x + n * g.inputCount
                for ox in 0..<ow {
                    let out = y + (r * ow + ox) * c
                    out.update(repeating: 0, count: c)
                    for ky in 0..<g.kernelHeight {
                        for kx in 0..<g.kernelWidth {
                            let row = image + ((oy * g.stride + ky) * g.width + ox * g.stride + kx) * c
                            for j in 0..<c { out[j] += row[j] }
                        }
                    }
                    for j in 0..<c { out[j] *= scale }
                }
            }
        }
    }

    public static func averageBackward(_ g: ConvGeometry, dy: UnsafePointer<Float>, batch: Int,
                                       dx: UnsafeMutablePointer<Float>, threads: Int) {
        let c = g.inChannels, oh = g.outHeight, ow = g.outWidth
        let scale = 1 / Float(g.kernelHeight * g.kernelWidth)
        Parallel.forEachChunk(count: batch, threads: threads) { items in
            for n in items {
                let image = dx + n * g.inputCount
                image.update(repeating: 0, count: g.inputCount)
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let d = dy + ((n * oh + oy) * ow + ox) * c
                        for ky in 0..<g.kernelHeight {
                            for kx in 0..<g.kernelWidth {
                                let row = image + ((oy * g.stride + ky) * g.width + ox * g.stride + kx) * c
                                for j in 0..<c { row[j] += d[j] * scale }
                            }
                        }
                    }
                }
            }
        }
    }
}
