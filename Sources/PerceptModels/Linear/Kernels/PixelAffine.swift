import CKernels
import PerceptCore

// The linear classifier's minibatch products on raw pixel bytes, for few classes (C ≤ 32).
//
// Pixel features are x' = (x/255 − offset)·scale, an affine function of the bytes x, so
//   scores = W·x' + b = (W⊙a)·x + (b − W·o)           with a = scale/255, o = offset⊙scale,
//   dW = dSᵀ·x' = (dSᵀ·x)⊙a − (Σᵢ dSᵢ)⊗o,   db = Σᵢ dSᵢ.
// The C kernels (CKernels/linear_u8.c) stream the batch's bytes — a quarter of the memory of Float
// features, which is what limits this step — split over `threads` workers: forward by rows, the
// weight gradient by feature columns, so every worker writes its own outputs. The reference twins
// are Dense.affineForwardReference / affineBackwardReference on the preprocessed Floats.

/// The preprocessing of pixel features as the per-feature factor a and offset o of x' = x·a − o.
struct PixelFold: Sendable {
    let factor: [Float]
    let offset: [Float]

    init(_ pipeline: InputPipeline) {
        factor = pipeline.scale.map { $0 / 255 }
        offset = zip(pipeline.offset, pipeline.scale).map { $0 * $1 }
    }
}

extension Dense {
    /// Classes up to which the byte kernels are used (their per-class work grows linearly).
    static let pixelPathClassLimit = 32

    /// out (N×C) = x'·Wᵀ + b for the N byte rows at `x`.
    static func pixelAffineForward(x: UnsafePointer<UInt8>, n: Int, d: Int, weights: [Float], bias: [Float], c: Int,
                                   fold: PixelFold, out: UnsafeMutablePointer<Float>, threads: Int) {
        // W⊙a elementwise (vectorised), b − W·o as one gemv.
        var folded = [Float](repeating: 0, count: c * d), shifts = [Float](repeating: 0, count: c)
        weights.withUnsafeBufferPointer { w in
            fold.factor.withUnsafeBufferPointer { a in
                folded.withUnsafeMutableBufferPointer { f in
                    for j in 0..<c {
                        for k in 0..<d { f[j * d + k] = w[j * d + k] * a[k] }
                    }
                }
            }
            fold.offset.withUnsafeBufferPointer { o in
                shifts.withUnsafeMutableBufferPointer { y in
                    BLAS.gemv(m: c, n: d, a: w.baseAddress!, x: o.baseAddress!, y: y.baseAddress!)
                }
            }
        }
        let foldedBias = zip(bias, shifts).map { $0 - $1 }
        nonisolated(unsafe) let (x, out) = (x, out)
        folded.withUnsafeBufferPointer { w in
            foldedBias.withUnsafeBufferPointer { b in
                nonisolated(unsafe) let (w, b) = (w, b)
                Parallel.forEachChunk(count: n, threads: threads, minimumChunk: 32) { rows in
                    percept_affine_rows_u8(x, rows.lowerBound, rows.upperBound, d, w.baseAddress, b.baseAddress, c, out)
                }
            }
        }
    }

    /// dW (C×D) = dOutᵀ·x' and db = Σ rows of dOut, overwriting both.
    static func pixelAffineBackward(dOut: UnsafePointer<Float>, x: UnsafePointer<UInt8>, n: Int, d: Int, c: Int, fold: PixelFold,
                                    dWeights: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>, threads: Int) {
        nonisolated(unsafe) let (dOut, x, dWeights) = (dOut, x, dWeights)
        Parallel.forEachChunk(count: d, threads: threads, minimumChunk: 256) { columns in
            percept_affine_weight_gradient_u8(dOut, x, n, d, c, columns.lowerBound, columns.upperBound, dWeights)
        }
        dBias.update(repeating: 0, count: c)
        for row in 0..<n {
            for j in 0..<c { dBias[j] += dOut[row * c + j] }
        }
        fold.factor.withUnsafeBufferPointer { a in
            fold.offset.withUnsafeBufferPointer { o in
                for j in 0..<c {
                    let sum = dBias[j], row = dWeights + j * d
                    for k in 0..<d { row[k] = row[k] * a[k] - sum * o[k] }
                }
            }
        }
    }
}
