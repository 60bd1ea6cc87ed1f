import PerceptCore

/// A 2-D convolution over NHWC activations (groups = 1): Y = conv(X, W) + b.
///
/// Weights are K_H×K_W×Cin×Cout, so that im2col rows multiply them directly (Conv2D+GEMM.swift).
/// Initialised like PyTorch's default, U(−1/√fan-in, 1/√fan-in), from a seed.
public final class Conv2D: Layer {
    public let name: String
    public let geometry: ConvGeometry
    public let weight: Parameter
    public let bias: Parameter?
    public var needsInputGradient = true
    /// Threads for im2col/col2im (BLAS threads are set by the trainer with `BLAS.withThreadCount`).
    public var threads = Parallel.defaultThreadCount
    /// How the batch is shared out: `.blas` runs one multi-threaded GEMM per chunk, `.batch` gives
    /// each of `threads` workers its own images with single-threaded BLAS (see `forEachWorker`).
    /// `.automatic` takes `.blas` for wide layers (≥ 128 output channels: large GEMMs that BLAS
    /// splits well) and `.batch` for narrow ones — measured on the two networks, RESULTS.md.
    public enum Parallelism: Sendable { case automatic, blas, batch }
    public var parallelism = Parallelism.automatic
    /// Use the direct AVX2 kernel for the forward pass where it applies (narrow layers).
    public var allowsDirectConvolution = true
    /// The most floats of im2col matrix one chunk of images may use (measured: see RESULTS.md).
    public var columnBudget = 1 << 21

    private let output = FloatBuffer(), dInput = FloatBuffer()
    private var cols: [FloatBuffer] = [], partials: [FloatBuffer] = []
    private var colPointers: [UnsafeMutablePointer<Float>] = [], partialPointers: [UnsafeMutablePointer<Float>] = []
    private var input: FloatBuffer?

    /// A convolution with explicit weights (K_H×K_W×Cin×Cout) and optional bias (Cout).
    public init(name: String, geometry: ConvGeometry, weight: [Float], bias: [Float]?) {
        precondition(weight.count == geometry.patchLength * geometry.outChannels, "Conv2D \(name): weight count")
        self.name = name
        self.geometry = geometry
        self.weight = Parameter(name: "\(name).weight",
                                shape: [geometry.kernelHeight, geometry.kernelWidth, geometry.inChannels,
                                        geometry.outChannels],
                                value: weight, decays: true)
        self.bias = bias.map { Parameter(name: "\(name).bias", shape: [geometry.outChannels], value: $0, decays: false) }
    }

    /// A convolution initialised uniformly in ±1/√fan-in (PyTorch's default), from `random`.
    public convenience init(name: String, geometry: ConvGeometry, bias: Bool, random: inout SeededRandom) {
        let bound = 1 / Float(geometry.patchLength).squareRoot()
        let weight = (0..<(geometry.patchLength * geometry.outChannels)).map { _ in (random.nextUnitFloat() * 2 - 1) * bound }
        let biasValues = bias ? (0..<geometry.outChannels).map { _ in (random.nextUnitFloat() * 2 - 1) * bound } : nil
        self.init(name: name, geometry: geometry, weight: weight, bias: biasValues)
    }

    public var inputShape: FeatureShape {
        FeatureShape(height: geometry.height, width: geometry.width, channels: geometry.inChannels)
    }
    public var outputShape: FeatureShape {
        FeatureShape(height: geometry.outHeight, width: geometry.outWidth, channels: geometry.outChannels)
    }
    public var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    private var workers: Int {
        switch parallelism {
        case .batch: max(1, threads)
        case .blas: 1
        case .automatic: geometry.outChannels >= 128 ? 1 : max(1, threads)
        }
    }

    /// Images per chunk; makes sure every worker has its im2col and partial-gradient scratch.
    private func prepareScratch(_ batch: Int) -> Int {
        let workers = min(self.workers, max(1, batch))
        let chunk = ConvKernels.chunkImages(geometry, batch: (batch + workers - 1) / workers, floatBudget: columnBudget)
        let colCount = geometry.isPointwise ? 1 : chunk * geometry.outHeight * geometry.outWidth * geometry.patchLength
        while cols.count < workers { cols.append(FloatBuffer()) }
        while partials.count < workers - 1 { partials.append(FloatBuffer()) }
        for buffer in cols[0..<workers] { buffer.reserve(colCount) }
        for buffer in partials[0..<(workers - 1)] { buffer.reserve(geometry.patchLength * geometry.outChannels) }
        if colPointers.count != workers || zip(colPointers, cols).contains(where: { $0 != $1.pointer })
            || zip(partialPointers, partials).contains(where: { $0 != $1.pointer }) || partialPointers.count != workers - 1 {
            colPointers = cols[0..<workers].map(\.pointer)
            partialPointers = partials[0..<(workers - 1)].map(\.pointer)
        }
        return chunk
    }

    public func forward(_ input: FloatBuffer, batch: Int, mode: ForwardMode) -> FloatBuffer {
        self.input = input
        output.reserve(batch * geometry.outputCount)
        let chunk = prepareScratch(batch)
        ConvKernels.forward(geometry, input: input.pointer, batch: batch, weight: weight.value, bias: bias?.value,
                            output: output.pointer, cols: colPointers, chunk: chunk, threads: threads,
                            direct: allowsDirectConvolution)
        return output
    }

    public func backward(_ dOutput: FloatBuffer, batch: Int) -> FloatBuffer {
        guard let input else { preconditionFailure("Conv2D \(name): backward before forward") }
        if needsInputGradient { dInput.reserve(batch * geometry.inputCount) }
        let chunk = prepareScratch(batch)
        ConvKernels.backward(geometry, input: input.pointer, batch: batch, weight: weight.value,
                             dOutput: dOutput.pointer, dWeight: &weight.gradient,
                             dInput: needsInputGradient ? dInput.pointer : nil,
                             cols: colPointers, partials: partialPointers, chunk: chunk, threads: threads)
        if let bias {
            ConvKernels.columnSums(dOutput.pointer, rows: batch * geometry.outHeight * geometry.outWidth,
                                   columns: geometry.outChannels, into: &bias.gradient)
        }
        return dInput
    }
}
