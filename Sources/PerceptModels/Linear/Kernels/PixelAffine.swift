import CKernels
import PerceptCore
import PerceptPreprocessing

// The linear classifier's minibatch products on raw pixel bytes, for few classes (C ≤ 32).
//
// Pixel features are x' = (x/255 − offset)·scale, an affine function of the bytes x, so
//   scores = W·x' + b = (W⊙a)·x + (b − W·o)           with a = scale/255, o = offset⊙scale,
//   dW = dSᵀ·x' = (dSᵀ·x)⊙a − (Σᵢ dSᵢ)⊗o,   db = Σᵢ dSᵢ.
// The C kernels (CKernels/linear_u8.c) stream the batch's bytes — a quarter of the memory of Float
// features, which is what limits this step — split over `threads` workers: forward by rows, the
// weight gradient by feature columns, so every worker writes its own outputs. The reference twins
// are Dense.affineForwardReference / affineBackwardReference on the preprocessed Floats.

/// The preprocessing of pixel features as the per-feature factor a and offset o of x' = x·a − o,
/// with what every step of one fit reuses: scratch for the folded weights (a fresh 120 KB array per
/// step cost page faults) and the helper threads of the byte kernels (waking a dispatch worker per
/// call cost as much as the half of a step it took over). One fit uses it from one thread at a
/// time, hence @unchecked Sendable.
final class PixelFold: @unchecked Sendable {
    let factor: [Float]
    let offset: [Float]
    fileprivate var folded: [Float] = []
    fileprivate var shifts: [Float] = []
    private var team: OpaquePointer?
    private var teamThreads = 1

    init(_ pipeline: InputPipeline) {
        factor = pipeline.scale.map { $0 / 255 }
        offset = zip(pipeline.offset, pipeline.scale).map { $0 * $1 }
    }

    deinit { percept_linear_team_destroy(team) }

    /// The helpers for `threads` workers (nil for one: the caller works alone).
    fileprivate func team(threads: Int) -> OpaquePointer? {
        if threads != teamThreads {
            percept_linear_team_destroy(team)
            team = percept_linear_team_create(max(1, threads))
            teamThreads = threads
        }
        return team
    }
}

extension Dense {
    /// Classes up to which the byte kernels are used (their per-class work grows linearly).
    static let pixelPathClassLimit = 32

    /// out (N×C) = x'·Wᵀ + b for the N byte rows at `x`; returns Σ W² (the step's L2 penalty, from the same pass).
    @discardableResult
    static func pixelAffineForward(x: UnsafePointer<UInt8>, n: Int, d: Int, weights: [Float], bias: [Float], c: Int,
                                   fold: PixelFold, out: UnsafeMutablePointer<Float>, threads: Int) -> Double {
        // W⊙a and b − W·o in one pass over W.
        if fold.folded.count != c * d { fold.folded = [Float](repeating: 0, count: c * d) }
        if fold.shifts.count != c { fold.shifts = [Float](repeating: 0, count: c) }
        let squares = weights.withUnsafeBufferPointer { w in
            fold.factor.withUnsafeBufferPointer { a in
                fold.offset.withUnsafeBufferPointer { o in
                    fold.folded.withUnsafeMutableBufferPointer { f in
                        fold.shifts.withUnsafeMutableBufferPointer { y in
                            percept_fold_weights(w.baseAddress, a.baseAddress, o.baseAddress, c, d, f.baseAddress, y.baseAddress)
                        }
                    }
                }
            }
        }
        var foldedBias = bias
        for j in 0..<c { foldedBias[j] -= fold.shifts[j] }
        let team = fold.team(threads: threads)
        fold.folded.withUnsafeBufferPointer { w in
            percept_linear_forward_u8(team, x, n, d, w.baseAddress, foldedBias, c, out)
        }
        return squares
    }

    /// dW (C×D) = dOutᵀ·x' + 2λ·W and db = Σ rows of dOut, overwriting both.
    static func pixelAffineBackward(dOut: UnsafePointer<Float>, x: UnsafePointer<UInt8>, n: Int, d: Int, c: Int, fold: PixelFold,
                                    weights: UnsafePointer<Float>, regularization: Float,
                                    dWeights: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>, threads: Int) {
        dBias.update(repeating: 0, count: c)
        for row in 0..<n {
            for j in 0..<c { dBias[j] += dOut[row * c + j] }
        }
        // Split by columns; each thread unfolds its own columns while they are still in cache.
        percept_linear_backward_u8(fold.team(threads: threads), dOut, x, n, d, c, fold.factor, fold.offset, dBias, weights,
                                   2 * regularization, dWeights)
    }
}
