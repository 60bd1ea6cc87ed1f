import PerceptCore

/// The matrix products of a classifier head on feature vectors, through BLAS (sgemm), each with
/// a plain reference twin that `HeadKernelTests` compares it with.
///
/// Shape letters: N rows (images), D inputs (features), K outputs (classes or hidden units).
/// Everything is row-major Float32; a layer's weights are K × D, as `Wx + b` reads them.
enum HeadKernels {
    /// Z = X Wᵀ + b: N × K outputs of the affine layer (W: K × D, b: K) on X (N × D).
    static func affine(_ x: [Float], rows n: Int, weights: ArraySlice<Float>, bias: ArraySlice<Float>,
                       outputs k: Int) -> [Float] {
        let d = n > 0 ? x.count / n : 0
        precondition(x.count == n * d && weights.count == k * d && bias.count == k, "HeadKernels.affine: shapes disagree")
        var z = [Float](repeating: 0, count: n * k)
        let b = Array(bias)
        for row in 0..<n { for j in 0..<k { z[row * k + j] = b[j] } }
        guard n > 0, k > 0, d > 0 else { return z }
        weights.withUnsafeBufferPointer { w in
            x.withUnsafeBufferPointer { xs in
                z.withUnsafeMutableBufferPointer { out in
                    BLAS.gemm(transposeB: true, m: n, n: k, k: d, a: xs.baseAddress!, b: w.baseAddress!, beta: 1,
                              c: out.baseAddress!)
                }
            }
        }
        return z
    }

    /// dW = dZᵀ X (K × D), the weight gradient of `affine`.
    static func weightGradient(_ dz: [Float], _ x: [Float], rows n: Int, outputs k: Int) -> [Float] {
        let d = n > 0 ? x.count / n : 0
        precondition(dz.count == n * k && x.count == n * d, "HeadKernels.weightGradient: shapes disagree")
        var dw = [Float](repeating: 0, count: k * d)
        guard n > 0, k > 0, d > 0 else { return dw }
        dz.withUnsafeBufferPointer { g in
            x.withUnsafeBufferPointer { xs in
                dw.withUnsafeMutableBufferPointer { out in
                    BLAS.gemm(transposeA: true, m: k, n: d, k: n, a: g.baseAddress!, b: xs.baseAddress!, c: out.baseAddress!)
                }
            }
        }
        return dw
    }

    /// dX = dZ W (N × D), the input gradient of `affine`.
    static func inputGradient(_ dz: [Float], rows n: Int, weights: ArraySlice<Float>, outputs k: Int) -> [Float] {
        let d = k > 0 ? weights.count / k : 0
        precondition(dz.count == n * k && weights.count == k * d, "HeadKernels.inputGradient: shapes disagree")
        var dx = [Float](repeating: 0, count: n * d)
        guard n > 0, k > 0, d > 0 else { return dx }
        dz.withUnsafeBufferPointer { g in
            weights.withUnsafeBufferPointer { w in
                dx.withUnsafeMutableBufferPointer { out in
                    BLAS.gemm(m: n, n: d, k: k, a: g.baseAddress!, b: w.baseAddress!, c: out.baseAddress!)
                }
            }
        }
        return dx
    }

    // MARK: - Reference twins (test oracles)

    static func affineReference(_ x: [Float], rows n: Int, weights: [Float], bias: [Float], outputs k: Int) -> [Float] {
        let d = x.count / max(n, 1)
        var z = [Float](repeating: 0, count: n * k)
        for row in 0..<n {
            for j in 0..<k {
                var sum = Double(bias[j])
                for i in 0..<d { sum += Double(x[row * d + i]) * Double(weights[j * d + i]) }
                z[row * k + j] = Float(sum)
            }
        }
        return z
    }

    static func weightGradientReference(_ dz: [Float], _ x: [Float], rows n: Int, outputs k: Int) -> [Float] {
        let d = x.count / max(n, 1)
        var dw = [Float](repeating: 0, count: k * d)
        for j in 0..<k {
            for i in 0..<d {
                var sum = 0.0
                for row in 0..<n { sum += Double(dz[row * k + j]) * Double(x[row * d + i]) }
                dw[j * d + i] = Float(sum)
            }
        }
        return dw
    }

    static func inputGradientReference(_ dz: [Float], rows n: Int, weights: [Float], outputs k: Int) -> [Float] {
        let d = weights.count / max(k, 1)
        var dx = [Float](repeating: 0, count: n * d)
        for row in 0..<n {
            for i in 0..<d {
                var sum = 0.0
                for j in 0..<k { sum += Double(dz[row * k + j]) * Double(weights[j * d + i]) }
                dx[row * d + i] = Float(sum)
            }
        }
        return dx
    }
}
