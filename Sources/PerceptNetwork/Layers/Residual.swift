import PerceptCore

/// A residual connection (He et al. 2016): y = body(x) + shortcut(x), where an empty shortcut is
/// the identity (and a projection, e.g. 1×1 convolution with stride 2 and BatchNorm, otherwise).
public final class Residual: Layer {
    public let name: String
    public let body: [any Layer]
    public let shortcut: [any Layer]
    public var needsInputGradient = true
    public var threads = Parallel.defaultThreadCount
    private let output = FloatBuffer()
    private var dInput = FloatBuffer()

    public init(name: String, body: [any Layer], shortcut: [any Layer]) {
        precondition(!body.isEmpty, "Residual \(name): empty body")
        self.name = name
        self.body = body
        self.shortcut = shortcut
    }

    public var inputShape: FeatureShape { body[0].inputShape }
    public var outputShape: FeatureShape { body[body.count - 1].outputShape }
    public var parameters: [Parameter] { (body + shortcut).flatMap(\.parameters) }
    public var state: [Parameter] { (body + shortcut).flatMap(\.state) }
    public var layers: [any Layer] { body + shortcut }
    /// Write the sum over the body's output instead of into a buffer of its own: `Network` sets it
    /// when the body ends in a layer whose backward does not read its output (convolution, BatchNorm).
    var addsInPlace = false

    public func forward(_ input: FloatBuffer, batch: Int, mode: ForwardMode) -> FloatBuffer {
        let b = Network.forward(body, input, batch: batch, mode: mode)
        let s = Network.forward(shortcut, input, batch: batch, mode: mode)
        let count = batch * outputShape.count
        let sum = addsInPlace ? b : output
        sum.reserve(count)
        ActivationKernels.add(b.pointer, s.pointer, into: sum.pointer, count: count, threads: threads)
        return sum
    }

    /// Inference with the addition, and the following `activation` if any, fused into the store of
    /// the body's last convolution (`Network.endsInConvolution(body)` must hold); returns that
    /// convolution's output buffer.
    func forwardFused(_ input: FloatBuffer, batch: Int, activation: Activation.Function?) -> FloatBuffer {
        // The shortcut runs first: its output (or the input itself) is read by the body's last store.
        let s = shortcut.isEmpty ? input : Network.forward(shortcut, input, batch: batch, mode: .inference)
        return Network.forward(body, input, batch: batch, mode: .inference,
                               final: ConvEpilogue(adding: s, activation: activation))
    }

    public func useInputGradientBuffer(_ buffer: FloatBuffer) -> Bool {
        dInput = buffer
        return true
    }

    public func backward(_ dOutput: FloatBuffer, batch: Int) -> FloatBuffer {
        var db = dOutput
        for layer in body.reversed() { db = layer.backward(db, batch: batch) }
        var ds = dOutput
        for layer in shortcut.reversed() { ds = layer.backward(ds, batch: batch) }
        let count = batch * inputShape.count
        dInput.reserve(count)
        ActivationKernels.add(db.pointer, ds.pointer, into: dInput.pointer, count: count, threads: threads)
        return dInput
    }
}
