import PerceptCore

/// A fully connected layer on flattened features: y = x·W + b, W is D×units.
///
/// It is a 1×1 convolution over a 1×1 map, so it shares Conv2D's GEMM kernels (the weight is
/// stored as 1×1×D×units).
public final class Linear: Layer {
    public let name: String
    let convolution: Conv2D

    public init(name: String, inputCount: Int, units: Int, weight: [Float], bias: [Float]?) {
        self.name = name
        convolution = Conv2D(name: name, geometry: Linear.geometry(inputCount, units), weight: weight, bias: bias)
    }

    /// Weights and bias uniform in ±1/√D (PyTorch's default).
    public convenience init(name: String, inputCount: Int, units: Int, bias: Bool, random: inout SeededRandom) {
        let bound = 1 / Float(inputCount).squareRoot()
        let weight = (0..<(inputCount * units)).map { _ in (random.nextUnitFloat() * 2 - 1) * bound }
        let biasValues = bias ? (0..<units).map { _ in (random.nextUnitFloat() * 2 - 1) * bound } : nil
        self.init(name: name, inputCount: inputCount, units: units, weight: weight, bias: biasValues)
    }

    static func geometry(_ inputCount: Int, _ units: Int) -> ConvGeometry {
        ConvGeometry(height: 1, width: 1, inChannels: inputCount, kernelHeight: 1, kernelWidth: 1, stride: 1, padding: 0,
                     outChannels: units)
    }

    public var weight: Parameter { convolution.weight }
    public var bias: Parameter? { convolution.bias }
    public var inputShape: FeatureShape { FeatureShape(vector: convolution.geometry.inChannels) }
    public var outputShape: FeatureShape { FeatureShape(vector: convolution.geometry.outChannels) }
    public var parameters: [Parameter] { convolution.parameters }
    public var threads: Int {
        get { convolution.threads }
        set { convolution.threads = newValue }
    }
    public var needsInputGradient: Bool {
        get { convolution.needsInputGradient }
        set { convolution.needsInputGradient = newValue }
    }

    public func forward(_ input: FloatBuffer, batch: Int, mode: ForwardMode) -> FloatBuffer {
        convolution.forward(input, batch: batch, mode: mode)
    }

    public func useInputGradientBuffer(_ buffer: FloatBuffer) -> Bool {
        convolution.useInputGradientBuffer(buffer)
    }

    public func backward(_ dOutput: FloatBuffer, batch: Int) -> FloatBuffer {
        convolution.backward(dOutput, batch: batch)
    }
}
