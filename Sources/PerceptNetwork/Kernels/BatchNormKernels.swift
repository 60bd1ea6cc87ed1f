import PerceptCore

// Batch normalisation over NHWC activations viewed as an R×C matrix (R = N·H·W rows, one
// channel per column): statistics are column means and variances. Sums run over 8 fixed row
// blocks on both cores and are combined in Double in block order, so the result does not depend
// on the thread count. x̂ = (x − μ)·s is never stored: backward recomputes it from the layer's
// input (kept anyway), by the same expression, which saves one activation-sized buffer per layer.

public enum BatchNormKernels {
    static let blocks = 8

    /// Column sums of f(row, column) over all rows, as Double: `partial` blocks in parallel.
    static func blockedColumnSums(rows: Int, columns c: Int, threads: Int, into sums: UnsafeMutablePointer<Double>,
                                  _ accumulate: (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: blocks * c) { partial in
            nonisolated(unsafe) let base = partial.baseAddress!
            Parallel.forEachChunk(count: blocks, threads: threads) { range in
                for block in range {
                    let p = base + block * c
                    p.update(repeating: 0, count: c)
                    accumulate((rows * block / blocks)..<(rows * (block + 1) / blocks), p)
                }
            }
            for j in 0..<c { sums[j] = 0 }
            for block in 0..<blocks {
                for j in 0..<c { sums[j] += Double(base[block * c + j]) }
            }
        }
    }

    /// Training forward: batch mean and biased variance per channel, and y = γ·x̂ + β with
    /// x̂ = (x − μ)/√(σ² + ε); returns μ, σ² (biased) in `mean`/`variance` and 1/√(σ² + ε) in `inverseStd`.
    public static func forwardTraining(x: UnsafePointer<Float>, rows: Int, channels c: Int, epsilon: Float,
                                       gamma: [Float], beta: [Float], y: UnsafeMutablePointer<Float>, mean: inout [Float], variance: inout [Float],
                                       inverseStd: inout [Float], threads: Int) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: c) { sums in
            let s = sums.baseAddress!
            blockedColumnSums(rows: rows, columns: c, threads: threads, into: s) { range, p in
                for r in range {
                    let row = x + r * c
                    for j in 0..<c { p[j] += row[j] }
                }
            }
            for j in 0..<c { mean[j] = Float(s[j] / Double(rows)) }
            mean.withUnsafeBufferPointer { m in
                nonisolated(unsafe) let m = m
                blockedColumnSums(rows: rows, columns: c, threads: threads, into: s) { range, p in
                    for r in range {
                        let row = x + r * c
                        for j in 0..<c { let d = row[j] - m[j]; p[j] += d * d }
                    }
                }
            }
            for j in 0..<c {
                variance[j] = Float(s[j] / Double(rows))
                inverseStd[j] = 1 / (variance[j] + epsilon).squareRoot()
            }
        }
        normalize(x: x, rows: rows, channels: c, mean: mean, inverseStd: inverseStd, gamma: gamma, beta: beta,
                  y: y, threads: threads)
    }

    /// y = γ·(x − μ)·s + β: the shared second half of training and the whole of inference (with
    /// running statistics).
    public static func normalize(x: UnsafePointer<Float>, rows: Int, channels c: Int, mean: [Float], inverseStd: [Float],
                                 gamma: [Float], beta: [Float], y: UnsafeMutablePointer<Float>, threads: Int) {
        mean.withUnsafeBufferPointer { m in
            inverseStd.withUnsafeBufferPointer { s in
                gamma.withUnsafeBufferPointer { g in
                    beta.withUnsafeBufferPointer { b in
                        nonisolated(unsafe) let (m, s, g, b) = (m, s, g, b)
                        Parallel.forEachChunk(count: rows, threads: threads, minimumChunk: 256) { range in
                            for r in range {
                                let xr = x + r * c, yr = y + r * c
                                for j in 0..<c { yr[j] = (xr[j] - m[j]) * s[j] * g[j] + b[j] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Backward of the training forward (μ and s its batch statistics): with x̂ = (x − μ)·s,
    /// dγ = Σ dy·x̂, dβ = Σ dy, and dx = γ·s/R · (R·dy − dβ − x̂·dγ).
    public static func backward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, channels c: Int,
                                mean: [Float], inverseStd: [Float], gamma: [Float], dGamma: inout [Float],
                                dBeta: inout [Float], dx: UnsafeMutablePointer<Float>, threads: Int) {
        mean.withUnsafeBufferPointer { m in
            inverseStd.withUnsafeBufferPointer { s in
                nonisolated(unsafe) let (m, s) = (m, s)
                backward(dy: dy, x: x, rows: rows, channels: c, mean: m.baseAddress!, inverseStd: s.baseAddress!,
                         gamma: gamma, dGamma: &dGamma, dBeta: &dBeta, dx: dx, threads: threads)
            }
        }
    }

    private static func backward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, channels c: Int,
                                 mean m: UnsafePointer<Float>, inverseStd s: UnsafePointer<Float>, gamma: [Float],
                                 dGamma: inout [Float], dBeta: inout [Float], dx: UnsafeMutablePointer<Float>, threads: Int) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * c) { sums in
            let total = sums.baseAddress!
            blockedColumnSums(rows: rows, columns: c, threads: threads, into: total) { range, p in
                for r in range {
                    let d = dy + r * c
                    for j in 0..<c { p[j] += d[j] }
                }
            }
            blockedColumnSums(rows: rows, columns: c, threads: threads, into: total + c) { range, p in
                for r in range {
                    let d = dy + r * c, xr = x + r * c
                    for j in 0..<c { p[j] += d[j] * ((xr[j] - m[j]) * s[j]) }
                }
            }
            for j in 0..<c {
                dBeta[j] = Float(total[j])
                dGamma[j] = Float(total[c + j])
            }
        }
        let n = Float(rows)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * c) { k in
            let scale = k.baseAddress!, meanDy = scale + c, meanDyH = scale + 2 * c
            for j in 0..<c {
                scale[j] = gamma[j] * s[j]
                meanDy[j] = dBeta[j] / n
                meanDyH[j] = dGamma[j] / n
            }
            Parallel.forEachChunk(count: rows, threads: threads, minimumChunk: 256) { range in
                for r in range {
                    let d = dy + r * c, xr = x + r * c, o = dx + r * c
                    for j in 0..<c { o[j] = scale[j] * (d[j] - meanDy[j] - (xr[j] - m[j]) * s[j] * meanDyH[j]) }
                }
            }
        }
    }
}
