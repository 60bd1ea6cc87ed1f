import PerceptCore

// The layers of the two-layer net as free functions on Tensors, each forward beside its
// backward. Shape letters: N items, D inputs, H outputs; weights are H×D (one row per output).

/// y = x·Wᵀ + b: x is N×D, W is H×D, b has H entries; y is N×H.
public func affineForward(_ x: Tensor, weights: Tensor, bias: [Float]) -> Tensor {
    let n = x.rows, d = x.columns, h = weights.rows
    precondition(weights.columns == d && bias.count == h, "affine: x \(x.shape), W \(weights.shape), b \(bias.count)")
    var out = [Float](repeating: 0, count: n * h)
    x.scalars.withUnsafeBufferPointer { xs in
        weights.scalars.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                out.withUnsafeMutableBufferPointer { o in
                    guard let xs = xs.baseAddress, let w = w.baseAddress, let b = b.baseAddress, let o = o.baseAddress else { return }
                    Dense.affineForward(x: xs, n: n, d: d, weights: w, bias: b, c: h, out: o)
                }
            }
        }
    }
    return Tensor(shape: [n, h], scalars: out)
}

/// The gradients of `affineForward` given dy (N×H): dx = dy·W (N×D), dW = dyᵀ·x (H×D), db = Σ rows of dy.
public func affineBackward(_ dOut: Tensor, x: Tensor, weights: Tensor) -> (dX: Tensor, dWeights: Tensor, dBias: [Float]) {
    let n = x.rows, d = x.columns, h = weights.rows
    precondition(dOut.rows == n && dOut.columns == h && weights.columns == d, "affine backward: shapes differ")
    var dX = [Float](repeating: 0, count: n * d), dW = [Float](repeating: 0, count: h * d)
    var db = [Float](repeating: 0, count: h)
    dOut.scalars.withUnsafeBufferPointer { g in
        x.scalars.withUnsafeBufferPointer { xs in
            weights.scalars.withUnsafeBufferPointer { w in
                dX.withUnsafeMutableBufferPointer { dx in
                    dW.withUnsafeMutableBufferPointer { dw in
                        db.withUnsafeMutableBufferPointer { dbs in
                            guard let g = g.baseAddress, let xs = xs.baseAddress, let w = w.baseAddress,
                                  let dw = dw.baseAddress, let dbs = dbs.baseAddress else { return }
                            Dense.affineBackward(dOut: g, x: xs, n: n, d: d, weights: w, c: h, dWeights: dw, dBias: dbs,
                                                 dX: dx.baseAddress)
                        }
                    }
                }
            }
        }
    }
    return (Tensor(shape: [n, d], scalars: dX), Tensor(shape: [h, d], scalars: dW), db)
}

/// y = max(0, x), elementwise.
public func reluForward(_ x: Tensor) -> Tensor {
    Tensor(shape: x.shape, scalars: x.scalars.map { max(0, $0) })
}

/// dx = dy where the forward input was positive, 0 elsewhere.
public func reluBackward(_ dOut: Tensor, input: Tensor) -> Tensor {
    precondition(dOut.shape == input.shape, "relu backward: \(dOut.shape) vs \(input.shape)")
    return Tensor(shape: dOut.shape, scalars: zip(dOut.scalars, input.scalars).map { $1 > 0 ? $0 : 0 })
}
