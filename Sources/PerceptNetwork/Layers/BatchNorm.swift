import PerceptCore

/// Batch normalisation (Ioffe & Szegedy 2015) per channel of NHWC activations.
///
/// Training: normalise with the batch's mean and variance, and update the running statistics
/// (running = (1 − momentum)·running + momentum·batch, the variance unbiased, as PyTorch does).
/// Inference: normalise with the running statistics. y = γ·x̂ + β.
public final class BatchNorm: Layer {
    public let name: String
    public let inputShape: FeatureShape
    public let epsilon: Float
    public let momentum: Float
    public let scale: Parameter
    public let shift: Parameter
    public let runningMean: Parameter
    public let runningVariance: Parameter
    public var needsInputGradient = true
    public var threads = Parallel.defaultThreadCount

    private let output = FloatBuffer()
    private var dInput = FloatBuffer()
    /// The latest training forward pass's input (backward recomputes x̂ from it).
    private var input: FloatBuffer?
    private var batchMean: [Float], batchVariance: [Float], inverseStd: [Float]

    /// `trainableScale: false` freezes γ at its initial value (airbench does this).
    public init(name: String, shape: FeatureShape, epsilon: Float = 1e-5, momentum: Float = 0.1,
                trainableScale: Bool = true, scale: [Float]? = nil, shift: [Float]? = nil) {
        let c = shape.channels
        self.name = name
        self.inputShape = shape
        self.epsilon = epsilon
        self.momentum = momentum
        self.scale = Parameter(name: "\(name).scale", shape: [c], value: scale ?? Array(repeating: 1, count: c),
                               decays: false, trainable: trainableScale)
        self.shift = Parameter(name: "\(name).shift", shape: [c], value: shift ?? Array(repeating: 0, count: c),
                               decays: false)
        runningMean = Parameter(name: "\(name).runningMean", shape: [c], value: Array(repeating: 0, count: c),
                                decays: false, trainable: false)
        runningVariance = Parameter(name: "\(name).runningVariance", shape: [c], value: Array(repeating: 1, count: c),
                                    decays: false, trainable: false)
        batchMean = Array(repeating: 0, count: c)
        batchVariance = Array(repeating: 0, count: c)
        inverseStd = Array(repeating: 1, count: c)
    }

    public var outputShape: FeatureShape { inputShape }
    public var parameters: [Parameter] { [scale, shift] }
    public var state: [Parameter] { [runningMean, runningVariance] }

    public func forward(_ input: FloatBuffer, batch: Int, mode: ForwardMode) -> FloatBuffer {
        let rows = batch * inputShape.height * inputShape.width, c = inputShape.channels
        output.reserve(rows * c)
        switch mode {
        case .training:
            self.input = input
            BatchNormKernels.forwardTraining(x: input.pointer, rows: rows, channels: c, epsilon: epsilon,
                                             gamma: scale.value, beta: shift.value, y: output.pointer, mean: &batchMean, variance: &batchVariance,
                                             inverseStd: &inverseStd, threads: threads)
            let unbias = rows > 1 ? Float(rows) / Float(rows - 1) : 1
            for j in 0..<c {
                runningMean.value[j] += momentum * (batchMean[j] - runningMean.value[j])
                runningVariance.value[j] += momentum * (batchVariance[j] * unbias - runningVariance.value[j])
            }
        case .inference:
            for j in 0..<c { inverseStd[j] = 1 / (runningVariance.value[j] + epsilon).squareRoot() }
            BatchNormKernels.normalize(x: input.pointer, rows: rows, channels: c, mean: runningMean.value,
                                       inverseStd: inverseStd, gamma: scale.value, beta: shift.value, y: output.pointer, threads: threads)
        }
        return output
    }

    /// Inference as one affine map per channel, y = x·scale + shift (for folding into a convolution).
    public func inferenceAffine() -> (scale: [Float], shift: [Float]) {
        let scale = (0..<inputShape.channels).map { self.scale.value[$0] / (runningVariance.value[$0] + epsilon).squareRoot() }
        let shift = (0..<inputShape.channels).map { self.shift.value[$0] - runningMean.value[$0] * scale[$0] }
        return (scale, shift)
    }

    public func useInputGradientBuffer(_ buffer: FloatBuffer) -> Bool {
        dInput = buffer
        return true
    }

    public func backward(_ dOutput: FloatBuffer, batch: Int) -> FloatBuffer {
        let rows = batch * inputShape.height * inputShape.width
        dInput.reserve(rows * inputShape.channels)
        guard let input else { preconditionFailure("\(name): backward before a training forward pass") }
        BatchNormKernels.backward(dy: dOutput.pointer, x: input.pointer, rows: rows, channels: inputShape.channels,
                                  mean: batchMean, inverseStd: inverseStd, gamma: scale.value, dGamma: &scale.gradient,
                                  dBeta: &shift.gradient, dx: dInput.pointer, threads: threads)
        return dInput
    }
}
