import PerceptCore

// Pooling over NHWC activations. Max pooling's forward is a plain (vectorised) max; backward finds
// each window's maximum again and routes dY to it. Average pooling spreads dY evenly.
// Windows that hang over the edge (no padding, floor division) are simply not produced.

public enum PoolingKernels {
    /// Max over K×K windows moved by `stride` (a vectorised max over channel runs).
    public static func maxForward(_ g: ConvGeometry, x: UnsafePointer<Float>, batch: Int, y: UnsafeMutablePointer<Float>,
                                  threads: Int) {
        let c = g.inChannels, oh = g.outHeight, ow = g.outWidth
        Parallel.forEachChunk(count: batch * oh, threads: threads, minimumChunk: 8) { rows in
            for r in rows {
                let n = r / oh, oy = r % oh
                let image = x + n * g.inputCount
                for ox in 0..<ow {
                    let out = y + (r * ow + ox) * c
                    out.update(from: image + ((oy * g.stride) * g.width + ox * g.stride) * c, count: c)
                    for ky in 0..<g.kernelHeight {
                        for kx in 0..<g.kernelWidth where ky + kx > 0 {
                            let row = image + ((oy * g.stride + ky) * g.width + ox * g.stride + kx) * c
                            for j in 0..<c { out[j] = max(out[j], row[j]) }
                        }
                    }
                }
            }
        }
    }

    /// dX = 0, then each dY goes to the first input of its window (in row-major order) that equals
    /// the window's maximum — the element forward picked, found again instead of stored.
    public static func maxBackward(_ g: ConvGeometry, x: UnsafePointer<Float>, y: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                   batch: Int, dx: UnsafeMutablePointer<Float>, threads: Int) {
        let c = g.inChannels, oh = g.outHeight, ow = g.outWidth
        Parallel.forEachChunk(count: batch, threads: threads) { items in
            // remaining[j] is 1 until channel j's maximum has been found in the window: branch-free,
            // so the channel loops vectorise.
            withUnsafeTemporaryAllocation(of: Float.self, capacity: c) { remaining in
                let remaining = remaining.baseAddress!
                for n in items {
                    let image = x + n * g.inputCount, dImage = dx + n * g.inputCount
                    dImage.update(repeating: 0, count: g.inputCount)
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            let o = ((n * oh + oy) * ow + ox) * c
                            let target = y + o, d = dy + o
                            remaining.update(repeating: 1, count: c)
                            for ky in 0..<g.kernelHeight {
                                for kx in 0..<g.kernelWidth {
                                    let offset = ((oy * g.stride + ky) * g.width + ox * g.stride + kx) * c
                                    let row = image + offset, dRow = dImage + offset
                                    for j in 0..<c {
                                        let hit = remaining[j] * (row[j] == target[j] ? 1 : 0)
                                        dRow[j] += hit * d[j]
                                        remaining[j] -= hit
                                    }
                                }
                            }
                        }
                    }
                }
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
