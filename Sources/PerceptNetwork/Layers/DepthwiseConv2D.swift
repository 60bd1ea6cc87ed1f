import PerceptCore

/// A depthwise convolution over NHWC activations (groups = channels): each channel is filtered by
/// its own K×K kernel, Y[c] = X[c] ⋆ W[c] + b[c] — the spatial half of MobileNet's and
/// EfficientNet's separable blocks, with the channel mixing left to a following 1×1 convolution.
///
/// Weights are K×K×C (channels innermost, like the activations). Padding is given per side so
/// TensorFlow's asymmetric "same" padding fits. `clipsToSix` fuses ReLU6 (clip to 0…6) into the
/// store; backward then passes the gradient only where 0 < y < 6.
/// Initialised like PyTorch's default for a grouped convolution, U(−1/√K², 1/√K²) (fan-in K²).
public final class DepthwiseConv2D: Layer {
    public let name: String
    public let geometry: DepthwiseGeometry
    public let weight: Parameter
    public let bias: Parameter?
    public let clipsToSix: Bool
    public var needsInputGradient = true
    public var threads = Parallel.defaultThreadCount
    /// Run the forward pass with the AVX2 + FMA kernel where the CPU has it; false keeps the
    /// portable SIMD8 loop (tests of both).
    public var allowsAVX2 = true

    private let output = FloatBuffer()
    private var dInput = FloatBuffer()
    private let maskedDOutput = FloatBuffer()
    private let partials = FloatBuffer()
    private var input: FloatBuffer?

    /// A depthwise convolution with explicit weights (K×K×C) and optional bias (C).
    public init(name: String, geometry: DepthwiseGeometry, weight: [Float], bias: [Float]?, clipsToSix: Bool = false) {
        precondition(weight.count == geometry.weightCount, "DepthwiseConv2D \(name): weight count")
        precondition(bias.map { $0.count == geometry.channels } ?? true, "DepthwiseConv2D \(name): bias count")
        self.name = name
        self.geometry = geometry
        self.clipsToSix = clipsToSix
        self.weight = Parameter(name: "\(name).weight", shape: [geometry.kernel, geometry.kernel, geometry.channels],
                                value: weight, decays: true)
        self.bias = bias.map { Parameter(name: "\(name).bias", shape: [geometry.channels], value: $0, decays: false) }
    }

    /// A depthwise convolution initialised uniformly in ±1/K (fan-in K², PyTorch's default), from `random`.
    public convenience init(name: String, geometry: DepthwiseGeometry, bias: Bool, clipsToSix: Bool = false,
                            random: inout SeededRandom) {
        let bound = 1 / Float(geometry.kernel)
        let weight = (0..<geometry.weightCount).map { _ in (random.nextUnitFloat() * 2 - 1) * bound }
        let biasValues = bias ? (0..<geometry.channels).map { _ in (random.nextUnitFloat() * 2 - 1) * bound } : nil
        self.init(name: name, geometry: geometry, weight: weight, bias: biasValues, clipsToSix: clipsToSix)
    }

    public var inputShape: FeatureShape {
        FeatureShape(height: geometry.height, width: geometry.width, channels: geometry.channels)
    }
    public var outputShape: FeatureShape {
        FeatureShape(height: geometry.outHeight, width: geometry.outWidth, channels: geometry.channels)
    }
    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    public func forward(_ input: FloatBuffer, batch: Int, mode: ForwardMode) -> FloatBuffer {
        self.input = input
        output.reserve(batch * geometry.outputCount)
        DepthwiseKernels.forward(geometry, input: input.pointer, batch: batch, weight: weight.value, bias: bias?.value,
                                 clipsToSix: clipsToSix, output: output.pointer, threads: threads, usesAVX2: allowsAVX2)
        return output
    }

    public func useInputGradientBuffer(_ buffer: FloatBuffer) -> Bool {
        dInput = buffer
        return true
    }

    public func backward(_ dOutput: FloatBuffer, batch: Int) -> FloatBuffer {
        guard let input else { preconditionFailure("DepthwiseConv2D \(name): backward before forward") }
        var dY = dOutput
        if clipsToSix {   // y = clip(z, 0, 6): ∂L/∂z = ∂L/∂y where 0 < y < 6, else 0
            let count = batch * geometry.outputCount
            maskedDOutput.reserve(count)
            ActivationKernels.relu6Backward(output.pointer, dOutput.pointer, maskedDOutput.pointer, count: count,
                                            threads: threads)
            dY = maskedDOutput
        }
        partials.reserve(DepthwiseKernels.weightGradientScratch(geometry, batch: batch))
        var noBias: [Float] = []   // an empty bias gradient: the kernel skips the bias sums
        if let bias {
            DepthwiseKernels.weightGradient(geometry, input: input.pointer, dOutput: dY.pointer, batch: batch,
                                            dWeight: &weight.gradient, dBias: &bias.gradient, partials: partials.pointer,
                                            threads: threads)
        } else {
            DepthwiseKernels.weightGradient(geometry, input: input.pointer, dOutput: dY.pointer, batch: batch,
                                            dWeight: &weight.gradient, dBias: &noBias, partials: partials.pointer,
                                            threads: threads)
        }
        guard needsInputGradient else { return dInput }
        dInput.reserve(batch * geometry.inputCount)
        DepthwiseKernels.inputGradient(geometry, dOutput: dY.pointer, batch: batch, weight: weight.value,
                                       dInput: dInput.pointer, threads: threads)
        return dInput
    }
}
