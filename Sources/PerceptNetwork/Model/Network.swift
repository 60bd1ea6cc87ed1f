import PerceptCore

/// A built network: an architecture's layers for one input shape and class count, with their
/// parameters, run forward and backward on batches of NHWC Float activations.
public final class Network {
    public let architecture: Architecture
    public let inputShape: FeatureShape
    public let classCount: Int
    public let layers: [any Layer]
    /// Every learned array in a fixed order (names are unique).
    public let parameters: [Parameter]
    /// Every saved, untrained array (BatchNorm running statistics).
    public let state: [Parameter]

    /// Builds `architecture` for `inputShape` and `classCount`, initialised from `seed`.
    /// Throws, naming the layer, when a shape does not work out (a kernel larger than its input,
    /// a residual whose branches disagree, a head that does not end in `classCount` outputs).
    /// `sharesMemory: false` keeps every layer's own buffers (the tests' oracle for the sharing).
    public init(architecture: Architecture, inputShape: FeatureShape, classCount: Int, seed: UInt64,
                sharesMemory: Bool = true) throws {
        guard classCount >= 2 else { throw PerceptError.invalidArgument("a classifier needs at least 2 classes, got \(classCount)") }
        var random = SeededRandom(seed: seed)
        var builder = NetworkBuilder(classCount: classCount, seed: seed)
        let layers = try builder.build(architecture.layers, input: inputShape, prefix: "", random: &random)
        let output = layers.last?.outputShape ?? inputShape
        guard output.count == classCount else {
            throw PerceptError.invalidData(
                "architecture '\(architecture.name)' ends in \(output) outputs per image, but there are \(classCount) classes; end it with a linear layer")
        }
        layers.first?.needsInputGradient = false
        if sharesMemory {
            Network.shareScratch(layers, ConvScratch())
            Network.planInPlace(layers)
            var gradientBuffers: [FloatBuffer] = []
            Network.lendGradientBuffers(layers, gradient: nil, busy: [], pool: &gradientBuffers)
        }
        self.architecture = architecture
        self.inputShape = inputShape
        self.classCount = classCount
        self.layers = layers
        parameters = layers.flatMap(\.parameters)
        state = layers.flatMap(\.state)
        let names = (parameters + state).map(\.name)
        if let duplicate = Dictionary(grouping: names, by: { $0 }).first(where: { $1.count > 1 })?.key {
            throw PerceptError.invalidData("architecture '\(architecture.name)': two layers are both named '\(duplicate)'")
        }
    }

    /// Logits (batch × classes) for `batch` images in `input` (batch × H×W×C).
    public func forward(_ input: FloatBuffer, batch: Int, mode: ForwardMode) -> FloatBuffer {
        Network.forward(layers, input, batch: batch, mode: mode)
    }

    /// Runs `layers` in order. At inference a BatchNorm right after a convolution — or after a
    /// convolution and a max pool, when every scale is positive so the two commute — is folded
    /// into the convolution's weights (`Conv2D.forward(_:batch:foldingScale:shift:)`), and an
    /// activation (ReLU, GELU) right after the convolution or its BatchNorm, and a residual addition
    /// whose body ends in one, are fused into the convolution's store: the same result to rounding,
    /// passes over the activations fewer. `final` is fused into the last convolution; only given when
    /// `endsInConvolution(layers)`.
    static func forward(_ layers: [any Layer], _ input: FloatBuffer, batch: Int, mode: ForwardMode,
                        final: ConvEpilogue = .none) -> FloatBuffer {
        let hasFinal = !final.isNone
        precondition(!hasFinal || (mode == .inference && endsInConvolution(layers)), "Network: nowhere to fuse the epilogue")
        func activation(at index: Int) -> Activation.Function? {
            index < layers.count ? (layers[index] as? Activation)?.function : nil
        }
        var x = input
        var i = 0
        while i < layers.count {
            if mode == .inference, let conv = layers[i] as? Conv2D {
                if i + 2 < layers.count, let pool = layers[i + 1] as? Pooling, pool.kind == .max,
                   let norm = layers[i + 2] as? BatchNorm {
                    let (scale, shift) = norm.inferenceAffine()
                    if scale.allSatisfy({ $0 > 0 }) {
                        x = conv.forward(x, batch: batch, foldingScale: scale, shift: shift)
                        x = pool.forward(x, batch: batch, mode: mode)
                        i += 3
                        continue
                    }
                }
                let norm = i + 1 < layers.count ? layers[i + 1] as? BatchNorm : nil
                var next = i + (norm == nil ? 1 : 2)
                var epilogue = ConvEpilogue.none
                if next == layers.count {
                    epilogue = final
                } else if let function = activation(at: next), next + 1 < layers.count || !hasFinal {
                    epilogue.activation = function
                    next += 1
                }
                if let norm {
                    let (scale, shift) = norm.inferenceAffine()
                    x = conv.forward(x, batch: batch, foldingScale: scale, shift: shift, epilogue: epilogue)
                } else {
                    x = conv.forward(x, batch: batch, epilogue: epilogue)
                }
                i = next
                continue
            }
            if mode == .inference, let residual = layers[i] as? Residual, endsInConvolution(residual.body) {
                let after = i + 2 < layers.count || !hasFinal ? activation(at: i + 1) : nil
                x = residual.forwardFused(x, batch: batch, activation: after)
                i += after == nil ? 1 : 2
                continue
            }
            x = layers[i].forward(x, batch: batch, mode: mode)
            i += 1
        }
        return x
    }

    /// Whether `layers` end in a convolution, or a convolution and its BatchNorm: where an inference
    /// epilogue (residual addition, activation) can be fused.
    static func endsInConvolution(_ layers: [any Layer]) -> Bool {
        guard let last = layers.last else { return false }
        if last is Conv2D { return true }
        return last is BatchNorm && layers.count >= 2 && layers[layers.count - 2] is Conv2D
    }

    /// Back-propagates ∂loss/∂logits, setting every parameter's gradient.
    public func backward(_ dLogits: FloatBuffer, batch: Int) {
        var d = dLogits
        for layer in layers.reversed() { d = layer.backward(d, batch: batch) }
    }

    /// Threads for the element-wise and im2col loops of every layer.
    public func setThreads(_ threads: Int) {
        func visit(_ layers: [any Layer]) {
            for layer in layers {
                layer.threads = threads
                if let residual = layer as? Residual { visit(residual.layers) }
            }
        }
        visit(layers)
    }

    /// Parameters and state by name, as the model file stores them.
    public func tensors() -> [String: Tensor] {
        var result = [String: Tensor]()
        for p in parameters + state { result[p.name] = Tensor(shape: p.shape, scalars: p.value) }
        return result
    }

    /// Loads every parameter and state array from `tensors`; refuses, naming the array, when one is
    /// missing or has another shape (a checkpoint of another architecture).
    public func load(_ tensors: [String: Tensor]) throws {
        for p in parameters + state {
            guard let t = tensors[p.name] else {
                throw PerceptError.invalidData("the saved network has no '\(p.name)' (it was made with another architecture than '\(architecture.name)')")
            }
            guard t.shape == p.shape else {
                throw PerceptError.invalidData("the saved '\(p.name)' is \(t.shape), architecture '\(architecture.name)' needs \(p.shape)")
            }
        }
        for p in parameters + state { p.value = tensors[p.name]!.scalars }
    }

    /// Multiply-adds ×2 of one forward pass per image (convolutions, depthwise ones too, and linear layers).
    public var forwardFlopsPerImage: Int {
        func count(_ layers: [any Layer]) -> Int {
            layers.reduce(0) { total, layer in
                if let conv = layer as? Conv2D { return total + conv.geometry.forwardFlops }
                if let depthwise = layer as? DepthwiseConv2D { return total + depthwise.geometry.forwardFlops }
                if let linear = layer as? Linear { return total + 2 * linear.inputShape.count * linear.outputShape.count }
                if let residual = layer as? Residual { return total + count(residual.layers) }
                return total
            }
        }
        return count(layers)
    }
}
