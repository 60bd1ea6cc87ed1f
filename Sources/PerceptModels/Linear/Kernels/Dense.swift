import PerceptCore

// The dense kernels of the linear models: an affine layer's forward and backward passes
// through BLAS, each beside a plain reference twin (the test oracle).
//
// Shape letters: N items in the batch, D inputs per item, C outputs (classes or hidden units).
// Every matrix is row-major; weights are C×D, one row per output, so a linear classifier's row
// c is the template of class c (the lecture's f(x, W) = Wx + b, applied to N rows at once).
//
// Speed here (2-core EPYC, OpenBLAS 0.3.21, release, one thread, machine shared): a CIFAR batch,
// N = 200, D = 3072, C = 10, takes about 1.1 ms forward and backward together, 40% of it in OpenBLAS
// copying (packing) the batch's 2.4 MB of Floats (perf). The linear classifier therefore trains pixel
// features on bytes instead (PixelAffine.swift, ≈ 0.6 ms); these BLAS kernels serve the two-layer net,
// HOG features and prediction.

enum Dense {
    /// out (N×C) = x (N×D) · Wᵀ + b, W being C×D.
    static func affineForward(
        x: UnsafePointer<Float>, n: Int, d: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>, c: Int,
        out: UnsafeMutablePointer<Float>
    ) {
        for row in 0..<n { (out + row * c).update(from: bias, count: c) }
        BLAS.gemm(transposeB: true, m: n, n: c, k: d, a: x, b: weights, beta: 1, c: out)
    }

    /// The gradients of `affineForward` given dOut (N×C): dW = dOutᵀ·x (C×D), db = Σ rows of
    /// dOut (C), and, when asked for, dx = dOut·W (N×D). dW and db are overwritten.
    static func affineBackward(
        dOut: UnsafePointer<Float>, x: UnsafePointer<Float>, n: Int, d: Int,
        weights: UnsafePointer<Float>, c: Int,
        dWeights: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>,
        dX: UnsafeMutablePointer<Float>?
    ) {
        BLAS.gemm(transposeA: true, m: c, n: d, k: n, a: dOut, b: x, c: dWeights)
        dBias.update(repeating: 0, count: c)
        for row in 0..<n {
            for j in 0..<c { dBias[j] += dOut[row * c + j] }
        }
        if let dX { BLAS.gemm(m: n, n: d, k: c, a: dOut, b: weights, c: dX) }
    }

    /// Reference twin of `affineForward`: three plain loops, Double sums.
    static func affineForwardReference(x: [Float], n: Int, d: Int, weights: [Float], bias: [Float], c: Int) -> [Float] {
        var out = [Float](repeating: 0, count: n * c)
        for row in 0..<n {
            for j in 0..<c {
                var sum = Double(bias[j])
                for k in 0..<d { sum += Double(x[row * d + k]) * Double(weights[j * d + k]) }
                out[row * c + j] = Float(sum)
            }
        }
        return out
    }

    /// Reference twin of `affineBackward`.
    static func affineBackwardReference(dOut: [Float], x: [Float], n: Int, d: Int, weights: [Float], c: Int)
        -> (dWeights: [Float], dBias: [Float], dX: [Float]) {
        var dW = [Double](repeating: 0, count: c * d), db = [Double](repeating: 0, count: c)
        var dX = [Double](repeating: 0, count: n * d)
        for row in 0..<n {
            for j in 0..<c {
                let g = Double(dOut[row * c + j])
                db[j] += g
                for k in 0..<d {
                    dW[j * d + k] += g * Double(x[row * d + k])
                    dX[row * d + k] += g * Double(weights[j * d + k])
                }
            }
        }
        return (dW.map(Float.init), db.map(Float.init), dX.map(Float.init))
    }
}

extension Dense {
    /// SGD with momentum on one parameter array: v ← μ·v − η·g, w ← w + v.
    static func momentumUpdate(_ parameter: inout [Float], velocity: inout [Float], gradient: [Float],
                               learningRate: Float, momentum: Float) {
        precondition(parameter.count == velocity.count && parameter.count == gradient.count, "momentum update: sizes differ")
        let count = parameter.count
        parameter.withUnsafeMutableBufferPointer { w in
            velocity.withUnsafeMutableBufferPointer { v in
                gradient.withUnsafeBufferPointer { g in
                    for i in 0..<count {
                        v[i] = momentum * v[i] - learningRate * g[i]
                        w[i] += v[i]
                    }
                }
            }
        }
    }

    /// Reference twin of `momentumUpdate`: the same rule, one element at a time, on copies.
    static func momentumUpdateReference(parameter: [Float], velocity: [Float], gradient: [Float],
                                        learningRate: Float, momentum: Float) -> (parameter: [Float], velocity: [Float]) {
        let newVelocity = zip(velocity, gradient).map { momentum * $0 - learningRate * $1 }
        return (zip(parameter, newVelocity).map { $0 + $1 }, newVelocity)
    }
}
