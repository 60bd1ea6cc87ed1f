import PerceptCore
import PerceptData

// The row loops of standardisation: per-feature moments, the affine map (x − offset)·scale,
// and the gather of raw pixel rows for the linear models' byte path.

extension InputPipeline {
    /// (x − offset)·scale on every row, in place.
    public func apply(to matrix: inout Tensor, threads: Int? = nil) {
        let d = dimension, n = matrix.rows
        precondition(matrix.columns == d, "preprocessing: \(matrix.columns) columns, expected \(d)")
        let offset = self.offset, scale = self.scale
        matrix.scalars.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let values = buffer
            Parallel.forEachChunk(count: n, threads: threads, minimumChunk: 256) { range in
                for row in range {
                    let base = row * d
                    for k in 0..<d { values[base + k] = (values[base + k] - offset[k]) * scale[k] }
                }
            }
        }
    }

    /// Per-column mean and (population) variance in Double, summed in 16 fixed row blocks so the
    /// result does not depend on the thread count.
    static func columnMoments(_ matrix: Tensor, threads: Int?) -> (mean: [Double], variance: [Double]) {
        let n = matrix.rows, d = matrix.columns, blocks = 16
        let partial = Parallel.map(count: blocks, threads: threads, chunksPerThread: 1) { block -> [Double] in
            var sums = [Double](repeating: 0, count: 2 * d)
            for row in (n * block / blocks)..<(n * (block + 1) / blocks) {
                let base = row * d
                for k in 0..<d {
                    let v = Double(matrix.scalars[base + k])
                    sums[k] += v
                    sums[d + k] += v * v
                }
            }
            return sums
        }
        var mean = [Double](repeating: 0, count: d), variance = [Double](repeating: 0, count: d)
        for sums in partial {
            for k in 0..<d {
                mean[k] += sums[k]
                variance[k] += sums[d + k]
            }
        }
        let count = Double(max(1, n))
        for k in 0..<d {
            mean[k] /= count
            variance[k] = max(0, variance[k] / count - mean[k] * mean[k])
        }
        return (mean, variance)
    }
}

extension PreparedData {
    /// The pixel bytes of `dataset`'s items in `order`, one H·W·C row each.
    static func gatherPixelRows(of dataset: Dataset, order: [Int], threads: Int?) -> [UInt8] {
        let d = dataset.imageByteCount
        var bytes = [UInt8](repeating: 0, count: order.count * d)
        bytes.withUnsafeMutableBytes { destination in
            nonisolated(unsafe) let destination = destination
            dataset.withPixelBytes { _ in
                Parallel.forEachChunk(count: order.count, threads: threads, minimumChunk: 256) { rows in
                    for row in rows {
                        UnsafeMutableRawBufferPointer(rebasing: destination[(row * d)..<((row + 1) * d)])
                            .copyMemory(from: dataset.pixels(at: order[row]))
                    }
                }
            }
        }
        return bytes
    }
}
