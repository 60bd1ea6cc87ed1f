/// The height, width and channels of one item's activations (NHWC without the N).
/// A flattened vector is 1×1×D.
public struct FeatureShape: Equatable, Codable, Sendable, CustomStringConvertible {
    public var height: Int
    public var width: Int
    public var channels: Int

    public init(height: Int, width: Int, channels: Int) {
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// A vector of `count` features.
    public init(vector count: Int) { self.init(height: 1, width: 1, channels: count) }

    /// Floats per item.
    public var count: Int { height * width * channels }
    public var description: String { "\(height)×\(width)×\(channels)" }
}

/// Whether a forward pass is for training (batch statistics, dropout) or for inference.
public enum ForwardMode: Sendable { case training, inference }

/// A learned array and its gradient, named for the model file ("block1.conv1.weight").
public final class Parameter {
    public let name: String
    public let shape: [Int]
    public var value: [Float]
    /// ∂loss/∂value from the latest backward pass (overwritten, not accumulated).
    public var gradient: [Float]
    /// Whether the optimiser applies weight decay (weights yes; biases and BatchNorm no).
    public var decays: Bool
    /// Whether the optimiser updates it at all (airbench freezes BatchNorm's scale).
    public var trainable: Bool
    /// Multiplies the optimiser's learning rate and weight decay for this array: airbench trains
    /// BatchNorm shifts 64× faster with 1/64 the decay (`TrainingOptions.biasScaler`).
    public var learningRateScale: Float = 1
    public var weightDecayScale: Float = 1

    public init(name: String, shape: [Int], value: [Float], decays: Bool, trainable: Bool = true) {
        precondition(shape.reduce(1, *) == value.count, "Parameter \(name): shape \(shape) vs \(value.count) values")
        self.name = name
        self.shape = shape
        self.value = value
        self.gradient = [Float](repeating: 0, count: value.count)
        self.decays = decays
        self.trainable = trainable
    }

    public var count: Int { value.count }
}

/// One stage of a network: a forward pass and, beside it, the backward pass.
///
/// A layer is built for a fixed input shape (checked when the network is built), owns its output
/// buffer, and keeps what backward needs from the latest forward pass (usually a reference to its
/// input buffer, which the previous layer leaves untouched until the next forward pass). Its
/// input-gradient buffer is lent by the network (`useInputGradientBuffer`): a gradient is dead
/// once the layer before has read it, so a few buffers serve every layer.
public protocol Layer: AnyObject {
    /// The layer's name in the network, e.g. "block2.conv1".
    var name: String { get }
    var inputShape: FeatureShape { get }
    var outputShape: FeatureShape { get }
    /// Learned arrays, updated by the optimiser.
    var parameters: [Parameter] { get }
    /// State that is saved but not trained (BatchNorm running statistics).
    var state: [Parameter] { get }
    /// Computes the output of `batch` items of `input` (batch × inputShape floats).
    func forward(_ input: FloatBuffer, batch: Int, mode: ForwardMode) -> FloatBuffer
    /// Given ∂loss/∂output of the latest forward pass, sets the parameters' gradients and returns
    /// ∂loss/∂input (or the untouched `dOutput` buffer's neighbour when `needsInputGradient` is false).
    func backward(_ dOutput: FloatBuffer, batch: Int) -> FloatBuffer
    /// False for the first layer: nobody needs the gradient with respect to the images.
    var needsInputGradient: Bool { get set }
    /// How many threads the layer's loops may use.
    var threads: Int { get set }
    /// Makes backward write ∂loss/∂input into `buffer` (which the network shares among layers);
    /// false when the layer passes dOutput through or keeps its own buffer.
    func useInputGradientBuffer(_ buffer: FloatBuffer) -> Bool
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var state: [Parameter] { [] }
    public func useInputGradientBuffer(_ buffer: FloatBuffer) -> Bool { false }
}
