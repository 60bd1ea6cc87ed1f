import Foundation
import PerceptCore
import PerceptModels

/// The small classifier trained on frozen, standardised features: a softmax (multinomial logistic
/// regression, f(x) = Wx + b) or a two-layer net (affine – ReLU – affine).
///
/// Its numbers live in one flat vector so a full-batch optimiser (`LBFGS`) can treat them as one
/// point: softmax `[W (C×D), b (C)]`, MLP `[W1 (H×D), b1 (H), W2 (C×H), b2 (C)]`.
/// The loss is the mean cross-entropy plus (λ/2)·‖W‖² over the weight matrices (biases are not
/// regularised). Shape letters: N images, D features, H hidden units, C classes.
public struct ClassifierHead: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable { case softmax, mlp }

    public var kind: Kind
    public var inputs: Int
    public var hidden: Int
    public var classes: Int
    public var parameters: [Float]

    public init(kind: Kind, inputs: Int, hidden: Int = 0, classes: Int, parameters: [Float]? = nil, seed: UInt64 = 0) {
        self.kind = kind
        self.inputs = inputs
        self.hidden = kind == .mlp ? hidden : 0
        self.classes = classes
        if let parameters {
            self.parameters = parameters
            return
        }
        self.parameters = [Float](repeating: 0, count: Self.parameterCount(kind, inputs, self.hidden, classes))
        if kind == .mlp {
            // He initialisation for the ReLU layer; the output layer starts small.
            var random = SeededRandom(seed: seed)
            let first = self.hidden * inputs
            let scale1 = (2 / Float(inputs)).squareRoot(), scale2 = (1 / Float(max(self.hidden, 1))).squareRoot()
            for i in 0..<first { self.parameters[i] = random.nextGaussian() * scale1 }
            let second = first + self.hidden
            for i in second..<(second + classes * self.hidden) { self.parameters[i] = random.nextGaussian() * scale2 }
        }
    }

    static func parameterCount(_ kind: Kind, _ d: Int, _ h: Int, _ c: Int) -> Int {
        kind == .softmax ? c * d + c : h * d + h + c * h + c
    }

    /// Ranges of the layers' weights and biases in `parameters`, input layer first.
    var layers: [(weights: Range<Int>, bias: Range<Int>, outputs: Int)] {
        switch kind {
        case .softmax:
            return [(0..<(classes * inputs), (classes * inputs)..<(classes * inputs + classes), classes)]
        case .mlp:
            let w1 = 0..<(hidden * inputs), b1 = w1.upperBound..<(w1.upperBound + hidden)
            let w2 = b1.upperBound..<(b1.upperBound + classes * hidden), b2 = w2.upperBound..<(w2.upperBound + classes)
            return [(w1, b1, hidden), (w2, b2, classes)]
        }
    }

    /// N × C class scores of standardised features `x` (N × D).
    public func scores(_ x: [Float], rows n: Int) -> [Float] {
        forward(Tensor(shape: [n, inputs], scalars: x), parameters: parameters).last?.scalars ?? []
    }

    /// The layer's weights (outputs × inputs) as a Tensor.
    private func weights(_ layer: (weights: Range<Int>, bias: Range<Int>, outputs: Int), _ p: [Float]) -> Tensor {
        Tensor(shape: [layer.outputs, layer.weights.count / layer.outputs], scalars: Array(p[layer.weights]))
    }

    /// Every layer's output (the MLP's hidden activations after ReLU), the scores last; through
    /// the two-layer net's affine and ReLU layers (PerceptModels).
    private func forward(_ x: Tensor, parameters p: [Float]) -> [Tensor] {
        var outputs: [Tensor] = []
        var activation = x
        let layers = layers
        for (index, layer) in layers.enumerated() {
            activation = affineForward(activation, weights: weights(layer, p), bias: Array(p[layer.bias]))
            if index < layers.count - 1 { activation = reluForward(activation) }
            outputs.append(activation)
        }
        return outputs
    }

    /// The loss at `p` on (x, labels) and its gradient with respect to `p`.
    ///
    /// `meanOver` (default: the rows given) is the count the cross-entropy is averaged over: a rank
    /// holding a share of the rows passes the count of all of them, so the ranks' results add up to
    /// the whole set's (then `l2: 0`, and `addRegularization` once to the sum).
    public func lossAndGradient(_ p: [Float], _ x: [Float], labels: [Int32], l2: Float,
                                meanOver count: Int? = nil) -> (loss: Double, gradient: [Float]) {
        let n = labels.count, c = classes
        let divisor = Double(max(count ?? n, 1))
        var gradient = [Float](repeating: 0, count: p.count)
        var loss = 0.0
        if n > 0 {
            let input = Tensor(shape: [n, inputs], scalars: x)
            let outputs = forward(input, parameters: p)
            let scores = outputs.last?.scalars ?? []
            // dScores = (softmax − one-hot) / N; loss = mean −log p(label).
            var dScores = [Float](repeating: 0, count: n * c)
            for row in 0..<n {
                let base = row * c
                let largest = scores[base..<(base + c)].max() ?? 0
                var sum = 0.0
                for j in 0..<c { sum += Foundation.exp(Double(scores[base + j] - largest)) }
                let label = Int(labels[row])
                loss += log(sum) - Double(scores[base + label] - largest)
                for j in 0..<c {
                    let probability = Foundation.exp(Double(scores[base + j] - largest)) / sum
                    dScores[base + j] = Float((probability - (j == label ? 1 : 0)) / divisor)
                }
            }
            loss /= divisor
            let layers = layers
            var dOutput = Tensor(shape: [n, c], scalars: dScores)
            for index in stride(from: layers.count - 1, through: 0, by: -1) {
                let layer = layers[index]
                let layerInput = index == 0 ? input : outputs[index - 1]
                let (dInput, dWeights, dBias) = affineBackward(dOutput, x: layerInput, weights: weights(layer, p))
                for (offset, i) in layer.weights.enumerated() { gradient[i] = dWeights.scalars[offset] }
                for (offset, i) in layer.bias.enumerated() { gradient[i] = dBias[offset] }
                if index > 0 { dOutput = reluBackward(dInput, input: layerInput) }
            }
        }
        addRegularization(p, l2: l2, loss: &loss, gradient: &gradient)
        return (loss, gradient)
    }

    /// Adds (λ/2)·‖W‖² over the weight matrices to `loss` and λ·W to `gradient` (biases are not regularised).
    public func addRegularization(_ p: [Float], l2: Float, loss: inout Double, gradient: inout [Float]) {
        guard l2 != 0 else { return }
        for layer in layers {
            var squares = 0.0
            for i in layer.weights {
                gradient[i] += l2 * p[i]
                squares += Double(p[i]) * Double(p[i])
            }
            loss += 0.5 * Double(l2) * squares
        }
    }
}
