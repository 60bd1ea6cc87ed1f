import PerceptCore
import PerceptDistributed
import PerceptModelKit

/// The hot part of `TwoLayerNet.fit`: minibatches read in place, forward and backward through
/// the dense kernels (Dense.swift).
extension TwoLayerNet {
    /// The minibatch loop: each step's first layer reads its rows in place inside the training matrix.
    static func trainMinibatches(parameters: inout [[Float]], data: PreparedData, validation: PreparedData?, hidden h: Int,
                                 regularization lambda: Float, options: SGDOptions,
                                 communicator: Communicator) throws -> TrainingHistory {
        let c = data.classNames.count, d = data.features.columns
        return try data.features.scalars.withUnsafeBufferPointer { features in
            try MinibatchTrainer(options: options, communicator: communicator).train(
                parameters: &parameters, data: data, validation: validation,
                step: { start, rows, labels, parameters, gradients in
                    Self.lossAndGradients(batch: features.baseAddress! + start * d, rows: rows, d: d, labels: labels,
                                          parameters: parameters, hidden: h, classes: c, regularization: lambda,
                                          gradients: &gradients)
                },
                predict: { set, parameters in
                    let rows: Tensor
                    switch set {
                    case .trainingSample(let count):
                        rows = Tensor(shape: [count, d], scalars: Array(data.features.scalars.prefix(count * d)))
                    case .validation: rows = validation?.features ?? Tensor(zeros: [0, d])
                    }
                    return argmaxRows(Self.scores(rows, parameters: parameters, hidden: h, classes: c))
                })
        }
    }

    /// One minibatch forward and backward: affine → ReLU → affine → softmax, plus L2 on both weights.
    static func lossAndGradients(batch: UnsafePointer<Float>, rows n: Int, d: Int, labels: ArraySlice<Int32>,
                                 parameters: [[Float]], hidden h: Int, classes c: Int, regularization: Float,
                                 gradients: inout [[Float]]) -> Double {
        // Forward. The first layer reads the batch in place inside the training matrix.
        var activations = [Float](repeating: 0, count: n * h)
        parameters[0].withUnsafeBufferPointer { w1 in
            parameters[1].withUnsafeBufferPointer { b1 in
                activations.withUnsafeMutableBufferPointer { a in
                    Dense.affineForward(x: batch, n: n, d: d, weights: w1.baseAddress!, bias: b1.baseAddress!, c: h, out: a.baseAddress!)
                }
            }
        }
        let hidden = reluForward(Tensor(shape: [n, h], scalars: activations))
        let w2 = Tensor(shape: [c, h], scalars: parameters[2])
        let scores = affineForward(hidden, weights: w2, bias: parameters[3])
        let data = softmaxCrossEntropyLoss(scores: scores, labels: labels)

        // Backward, layer by layer.
        let (dHidden, dW2, db2) = affineBackward(data.gradient, x: hidden, weights: w2)
        let dActivations = reluBackward(dHidden, input: hidden)
        var dW1 = gradients[0], db1 = gradients[1]
        gradients = []
        dActivations.scalars.withUnsafeBufferPointer { g in
            parameters[0].withUnsafeBufferPointer { w1 in
                dW1.withUnsafeMutableBufferPointer { dw in
                    db1.withUnsafeMutableBufferPointer { db in
                        Dense.affineBackward(dOut: g.baseAddress!, x: batch, n: n, d: d, weights: w1.baseAddress!, c: h,
                                             dWeights: dw.baseAddress!, dBias: db.baseAddress!, dX: nil)
                    }
                }
            }
        }
        var penalty = 0.0
        let twiceLambda = 2 * regularization
        for i in dW1.indices {
            let w = parameters[0][i]
            penalty += Double(w) * Double(w)
            dW1[i] += twiceLambda * w
        }
        var dW2s = dW2.scalars
        for i in dW2s.indices {
            let w = parameters[2][i]
            penalty += Double(w) * Double(w)
            dW2s[i] += twiceLambda * w
        }
        gradients = [dW1, db1, dW2s, db2]
        return data.loss + Double(regularization) * penalty
    }
}
