import PerceptCore

/// An element-wise non-linearity: ReLU (max(x, 0)) or GELU (x·Φ(x), Hendrycks & Gimpel 2016).
public final class Activation: Layer {
    public enum Function: String, Codable, Sendable { case relu, gelu }

    public let name: String
    public let function: Function
    public let inputShape: FeatureShape
    public var needsInputGradient = true
    public var threads = Parallel.defaultThreadCount
    private let output = FloatBuffer()
    private var dInput = FloatBuffer()
    private var input: FloatBuffer?
    /// ReLU only: overwrite the input with the output instead of keeping both (backward's mask
    /// x > 0 is y > 0). `Network` sets it where the input's producer does not read its own
    /// output in backward and nothing else reads it.
    var inPlace = false

    public init(name: String, function: Function, shape: FeatureShape) {
        self.name = name
        self.function = function
        self.inputShape = shape
    }

    public var outputShape: FeatureShape { inputShape }

    public func forward(_ input: FloatBuffer, batch: Int, mode: ForwardMode) -> FloatBuffer {
        self.input = input
        let count = batch * inputShape.count
        if inPlace && function == .relu {
            ActivationKernels.reluForward(input.pointer, input.pointer, count: count, threads: threads)
            return input
        }
        output.reserve(count)
        switch function {
        case .relu: ActivationKernels.reluForward(input.pointer, output.pointer, count: count, threads: threads)
        case .gelu: ActivationKernels.geluForward(input.pointer, output.pointer, count: count, threads: threads)
        }
        return output
    }

    public func useInputGradientBuffer(_ buffer: FloatBuffer) -> Bool {
        dInput = buffer
        return true
    }

    public func backward(_ dOutput: FloatBuffer, batch: Int) -> FloatBuffer {
        guard let input else { preconditionFailure("\(name): backward before forward") }
        let count = batch * inputShape.count
        dInput.reserve(count)
        switch function {
        case .relu: ActivationKernels.reluBackward(input.pointer, dOutput.pointer, dInput.pointer, count: count, threads: threads)
        case .gelu: ActivationKernels.geluBackward(input.pointer, dOutput.pointer, dInput.pointer, count: count, threads: threads)
        }
        return dInput
    }
}

/// Multiplies by a constant (airbench's 1/9 on the logits).
public final class Scale: Layer {
    public let name: String
    public let factor: Float
    public let inputShape: FeatureShape
    public var needsInputGradient = true
    public var threads = 1
    private let output = FloatBuffer()
    private var dInput = FloatBuffer()

    public init(name: String, factor: Float, shape: FeatureShape) {
        self.name = name
        self.factor = factor
        self.inputShape = shape
    }

    public var outputShape: FeatureShape { inputShape }

    public func forward(_ input: FloatBuffer, batch: Int, mode: ForwardMode) -> FloatBuffer {
        output.reserve(batch * inputShape.count)
        ActivationKernels.scale(input.pointer, by: factor, into: output.pointer, count: batch * inputShape.count)
        return output
    }

    public func useInputGradientBuffer(_ buffer: FloatBuffer) -> Bool {
        dInput = buffer
        return true
    }

    public func backward(_ dOutput: FloatBuffer, batch: Int) -> FloatBuffer {
        dInput.reserve(batch * inputShape.count)
        ActivationKernels.scale(dOutput.pointer, by: factor, into: dInput.pointer, count: batch * inputShape.count)
        return dInput
    }
}

/// Views H×W×C activations as a 1×1×(H·W·C) vector; the buffer passes through untouched.
public final class Flatten: Layer {
    public let name: String
    public let inputShape: FeatureShape
    public var needsInputGradient = true
    public var threads = 1

    public init(name: String, shape: FeatureShape) {
        self.name = name
        self.inputShape = shape
    }

    public var outputShape: FeatureShape { FeatureShape(vector: inputShape.count) }
    public func forward(_ input: FloatBuffer, batch: Int, mode: ForwardMode) -> FloatBuffer { input }
    public func backward(_ dOutput: FloatBuffer, batch: Int) -> FloatBuffer { dOutput }
}

/// Inverted dropout (Srivastava et al. 2014): in training each value is zeroed with probability
/// `rate` and the rest scaled by 1/(1 − rate); inference is the identity. The mask of step t is
/// drawn from stream t of the seed, so a run repeats exactly.
public final class Dropout: Layer {
    public let name: String
    public let rate: Float
    public let inputShape: FeatureShape
    public let seed: UInt64
    public var needsInputGradient = true
    public var threads = 1
    /// Advanced by one every training forward pass; saved in checkpoints via the trainer's step.
    public var step = 0
    private let output = FloatBuffer(), mask = FloatBuffer()
    private var dInput = FloatBuffer()

    public init(name: String, rate: Float, shape: FeatureShape, seed: UInt64) {
        self.name = name
        self.rate = rate
        self.inputShape = shape
        self.seed = seed
    }

    public var outputShape: FeatureShape { inputShape }

    public func forward(_ input: FloatBuffer, batch: Int, mode: ForwardMode) -> FloatBuffer {
        let count = batch * inputShape.count
        guard mode == .training, rate > 0 else { return input }
        output.reserve(count)
        mask.reserve(count)
        var random = SeededRandom.stream(seed: seed, index: step)
        step += 1
        let keep = 1 / (1 - rate)
        let m = mask.view(count), x = input.view(count), y = output.view(count)
        for i in 0..<count {
            m[i] = random.nextUnitFloat() < rate ? 0 : keep
            y[i] = x[i] * m[i]
        }
        return output
    }

    public func useInputGradientBuffer(_ buffer: FloatBuffer) -> Bool {
        guard rate > 0 else { return false }  // backward passes dOutput through
        dInput = buffer
        return true
    }

    public func backward(_ dOutput: FloatBuffer, batch: Int) -> FloatBuffer {
        guard rate > 0 else { return dOutput }
        let count = batch * inputShape.count
        dInput.reserve(count)
        let m = mask.view(count), d = dOutput.view(count), dx = dInput.view(count)
        for i in 0..<count { dx[i] = d[i] * m[i] }
        return dInput
    }
}
