import PerceptCore
import PerceptDistributed
import PerceptModelKit

/// The hot part of `LinearClassifier.fit` and scoring: minibatches read in place, forward and
/// backward through the dense kernels (Dense.swift, PixelAffine.swift).
extension LinearClassifier {
    /// The minibatch loop: each step reads its rows in place inside the training matrix (or
    /// the pixel bytes), with the preprocessing folded into the weights on the byte path.
    static func trainMinibatches(parameters: inout [[Float]], data: PreparedData, validation: PreparedData?,
                                 pixelBytes: [UInt8], fold: PixelFold, loss: Loss, regularization lambda: Float,
                                 threads: Int, options: SGDOptions, communicator: Communicator) throws -> TrainingHistory {
        let c = data.classNames.count, d = data.features.columns
        return try data.features.scalars.withUnsafeBufferPointer { features in
            try pixelBytes.withUnsafeBufferPointer { pixels in
                try MinibatchTrainer(options: options, communicator: communicator).train(
                    parameters: &parameters, data: data, validation: validation,
                    step: { start, rows, labels, parameters, gradients in
                        let batch: Batch = pixels.isEmpty ? .features(features.baseAddress! + start * d)
                            : .pixels(pixels.baseAddress! + start * d, fold)
                        return Self.lossAndGradients(batch: batch, rows: rows, d: d, c: c, labels: labels, weights: parameters[0],
                                                     bias: parameters[1], loss: loss, regularization: lambda, threads: threads,
                                                     gradients: &gradients)
                    },
                    predict: { set, parameters in
                        // Pixel rows are scored from their bytes too (the same numbers, a quarter of the memory).
                        switch set {
                        case .trainingSample(let count) where !pixels.isEmpty:
                            return Self.predictPixels(pixels.baseAddress!, rows: count, d: d, c: c, parameters: parameters,
                                                      fold: fold, threads: threads)
                        case .trainingSample(let count):
                            let rows = Tensor(shape: [count, d], scalars: Array(UnsafeBufferPointer(rebasing: features[0..<(count * d)])))
                            return argmaxRows(Self.scores(rows, weights: parameters[0], bias: parameters[1], c: c))
                        case .validation:
                            guard let validation else { return [] }
                            if let bytes = validation.pixelBytes, !pixels.isEmpty {
                                return bytes.withUnsafeBufferPointer {
                                    Self.predictPixels($0.baseAddress!, rows: validation.count, d: d, c: c, parameters: parameters,
                                                       fold: fold, threads: threads)
                                }
                            }
                            return argmaxRows(Self.scores(validation.features, weights: parameters[0], bias: parameters[1], c: c))
                        }
                    })
            }
        }
    }

    static func scores(_ features: Tensor, weights: [Float], bias: [Float], c: Int) -> Tensor {
        let n = features.rows, d = features.columns
        var out = [Float](repeating: 0, count: n * c)
        features.scalars.withUnsafeBufferPointer { x in
            weights.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    out.withUnsafeMutableBufferPointer { o in
                        guard let x = x.baseAddress, let w = w.baseAddress, let b = b.baseAddress, let o = o.baseAddress else { return }
                        Dense.affineForward(x: x, n: n, d: d, weights: w, bias: b, c: c, out: o)
                    }
                }
            }
        }
        return Tensor(shape: [n, c], scalars: out)
    }

    static func predictPixels(_ x: UnsafePointer<UInt8>, rows: Int, d: Int, c: Int, parameters: [[Float]], fold: PixelFold,
                              threads: Int) -> [Int32] {
        var scores = [Float](repeating: 0, count: rows * c)
        scores.withUnsafeMutableBufferPointer { s in
            // The returned ΣW² (for the loss's penalty) is not needed to rank classes.
            _ = Dense.pixelAffineForward(x: x, n: rows, d: d, weights: parameters[0], bias: parameters[1], c: c, fold: fold,
                                         out: s.baseAddress!, threads: threads)
        }
        return argmaxRows(Tensor(shape: [rows, c], scalars: scores))
    }

    /// A minibatch: N rows of preprocessed Floats, or of raw pixel bytes and the folded preprocessing.
    enum Batch {
        case features(UnsafePointer<Float>)
        case pixels(UnsafePointer<UInt8>, PixelFold)
    }

    /// One minibatch: scores, data loss and its gradient, back through the affine map, plus L2.
    static func lossAndGradients(batch: Batch, rows: Int, d: Int, c: Int, labels: ArraySlice<Int32>,
                                 weights: [Float], bias: [Float], loss: Loss, regularization: Float, threads: Int = 1,
                                 gradients: inout [[Float]]) -> Double {
        var scores = [Float](repeating: 0, count: rows * c)
        // The byte path measures Σ W² while folding the weights; the Float path asks BLAS.
        let penalty = scores.withUnsafeMutableBufferPointer { s -> Double in
            switch batch {
            case .features(let x):
                weights.withUnsafeBufferPointer { w in
                    bias.withUnsafeBufferPointer { b in
                        Dense.affineForward(x: x, n: rows, d: d, weights: w.baseAddress!, bias: b.baseAddress!, c: c, out: s.baseAddress!)
                    }
                }
                return Double(sumOfSquares(weights))
            case .pixels(let x, let fold):
                return Dense.pixelAffineForward(x: x, n: rows, d: d, weights: weights, bias: bias, c: c, fold: fold,
                                                out: s.baseAddress!, threads: threads)
            }
        }
        let data = loss.evaluate(scores: Tensor(shape: [rows, c], scalars: scores), labels: labels)
        var dW = gradients[0], db = gradients[1]
        gradients = []  // dW and db are now the arrays' only owners: updated in place, not copied
        data.gradient.scalars.withUnsafeBufferPointer { dScores in
            weights.withUnsafeBufferPointer { w in
                dW.withUnsafeMutableBufferPointer { dW in
                    db.withUnsafeMutableBufferPointer { db in
                        switch batch {
                        case .features(let x):
                            Dense.affineBackward(dOut: dScores.baseAddress!, x: x, n: rows, d: d, weights: w.baseAddress!, c: c,
                                                 dWeights: dW.baseAddress!, dBias: db.baseAddress!, dX: nil)
                            for i in 0..<(c * d) { dW[i] += 2 * regularization * w[i] }
                        case .pixels(let x, let fold):
                            // The L2 term is added while unfolding each column block.
                            Dense.pixelAffineBackward(dOut: dScores.baseAddress!, x: x, n: rows, d: d, c: c, fold: fold,
                                                      weights: w.baseAddress!, regularization: regularization,
                                                      dWeights: dW.baseAddress!, dBias: db.baseAddress!, threads: threads)
                        }
                    }
                }
            }
        }
        gradients = [dW, db]
        return data.loss + Double(regularization) * penalty
    }
}

/// Σ w² as one BLAS dot product (Float sums; the penalty only reports the loss, its gradient is 2λW).
func sumOfSquares(_ values: [Float]) -> Float {
    var result: Float = 0
    values.withUnsafeBufferPointer { v in
        guard let base = v.baseAddress else { return }
        withUnsafeMutablePointer(to: &result) { BLAS.gemv(m: 1, n: v.count, a: base, x: base, y: $0) }
    }
    return result
}
