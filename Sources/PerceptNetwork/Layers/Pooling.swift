import PerceptCore

/// Max or average pooling over K×K windows moved by `stride` (no padding; a partial window at the
/// edge is dropped, as in PyTorch). Global pooling is a window the size of the whole map.
public final class Pooling: Layer {
    public enum Kind: String, Codable, Sendable { case max, average }

    public let name: String
    public let kind: Kind
    public let geometry: ConvGeometry
    public var needsInputGradient = true
    public var threads = Parallel.defaultThreadCount
    private let output = FloatBuffer()
    private var dInput = FloatBuffer()
    private var input: FloatBuffer?

    public init(name: String, kind: Kind, shape: FeatureShape, kernel: Int, stride: Int) {
        self.name = name
        self.kind = kind
        geometry = ConvGeometry(height: shape.height, width: shape.width, inChannels: shape.channels,
                                kernelHeight: kernel, kernelWidth: kernel, stride: stride, padding: 0,
                                outChannels: shape.channels)
    }

    /// Pooling over the whole H×W map: one value per channel.
    public init(name: String, global kind: Kind, shape: FeatureShape) {
        self.name = name
        self.kind = kind
        geometry = ConvGeometry(height: shape.height, width: shape.width, inChannels: shape.channels,
                                kernelHeight: shape.height, kernelWidth: shape.width, stride: 1, padding: 0,
                                outChannels: shape.channels)
    }

    public var inputShape: FeatureShape {
        FeatureShape(height: geometry.height, width: geometry.width, channels: geometry.inChannels)
    }
    public var outputShape: FeatureShape {
        FeatureShape(height: geometry.outHeight, width: geometry.outWidth, channels: geometry.outChannels)
    }

    public func forward(_ input: FloatBuffer, batch: Int, mode: ForwardMode) -> FloatBuffer {
        let count = batch * geometry.outputCount
        output.reserve(count)
        switch kind {
        case .max:
            self.input = input
            PoolingKernels.maxForward(geometry, x: input.pointer, batch: batch, y: output.pointer, threads: threads)
        case .average:
            PoolingKernels.averageForward(geometry, x: input.pointer, batch: batch, y: output.pointer, threads: threads)
        }
        return output
    }

    public func useInputGradientBuffer(_ buffer: FloatBuffer) -> Bool {
        dInput = buffer
        return true
    }

    public func backward(_ dOutput: FloatBuffer, batch: Int) -> FloatBuffer {
        dInput.reserve(batch * geometry.inputCount)
        switch kind {
        case .max:
            guard let input else { preconditionFailure("\(name): backward before forward") }
            PoolingKernels.maxBackward(geometry, x: input.pointer, y: output.pointer, dy: dOutput.pointer, batch: batch,
                                       dx: dInput.pointer, threads: threads)
        case .average:
            PoolingKernels.averageBackward(geometry, dy: dOutput.pointer, batch: batch, dx: dInput.pointer, threads: threads)
        }
        return dInput
    }
}
