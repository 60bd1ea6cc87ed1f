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
    /// Compute 3×3 stride-1 layers by Winograd where it was measured faster
    /// (`ConvKernels.prefersWinograd`); false keeps im2col + GEMM and the direct kernel.
    public var allowsWinograd = true
    /// Winograd wherever it applies, whatever the widths (tests of the kernels).
    var forcesWinograd = false
    /// The most floats one worker's transformed tiles may use (planes × tiles × channels).
    public var winogradBudget = 1 << 20
    /// Winograd's tile (forward pass and both gradients); nil takes `ConvKernels.preferredWinogradTile`.
    public var winogradTile: WinogradTile?

    private let output = FloatBuffer()
    private var dInput = FloatBuffer()
    private var input: FloatBuffer?
    /// im2col and Winograd scratch; `Network` gives all its convolutions one shared instance.
    public var scratch = ConvScratch()

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

    /// A fixed whitening filter bank (airbench): the trainer fills the weights from the training
    /// images' patches (`Whitening`) and never trains them.
    public var isWhitening = false {
        didSet { weight.trainable = !isWhitening }
    }

    /// Makes the first min(Cin, Cout) filters pass their input channel through unchanged (a 1 at
    /// the kernel's centre, PyTorch's `dirac_`), so a deep stack starts near the identity.
    public func setIdentityFilters() {
        let g = geometry
        let (cy, cx) = (g.kernelHeight / 2, g.kernelWidth / 2)
        for o in 0..<min(g.inChannels, g.outChannels) {
            for ky in 0..<g.kernelHeight {
                for kx in 0..<g.kernelWidth {
                    for i in 0..<g.inChannels {
                        let index = ((ky * g.kernelWidth + kx) * g.inChannels + i) * g.outChannels + o
                        weight.value[index] = ky == cy && kx == cx && i == o ? 1 : 0
                    }
                }
            }
        }
    }

    private var workers: Int {
        switch parallelism {
        case .batch: max(1, threads)
        case .blas: 1
        case .automatic: geometry.outChannels >= 128 ? 1 : max(1, threads)
        }
    }

    /// Images per chunk, and every worker's im2col and partial-gradient scratch.
    private func prepareScratch(_ batch: Int) -> (chunk: Int, buffers: ConvScratch.Im2col) {
        let workers = min(self.workers, max(1, batch))
        let chunk = ConvKernels.chunkImages(geometry, batch: (batch + workers - 1) / workers, floatBudget: columnBudget)
        let colCount = geometry.isPointwise ? 1 : chunk * geometry.outHeight * geometry.outWidth * geometry.patchLength
        return (chunk, scratch.im2col(workers: workers, colCount: colCount,
                                      partialCount: geometry.patchLength * geometry.outChannels))
    }

    private func usesWinograd(forward: Bool) -> Bool {
        guard allowsWinograd, ConvKernels.winogradApplies(geometry) else { return false }
        if forcesWinograd { return true }
        if forward && allowsDirectConvolution && ConvKernels.directConvolutionAvailable(geometry) { return false }
        return ConvKernels.prefersWinograd(geometry, forward: forward)
    }

    /// Winograd scratch for `g`: each worker's tile buffers, and the images per chunk.
    private func prepareWinograd(_ g: ConvGeometry, batch: Int, tile: WinogradTile)
        -> (tiles: ConvScratch.Tiles, chunk: Int) {
        let workers = max(1, min(threads, batch))
        let perWorker = (batch + workers - 1) / workers
        let chunk = ConvKernels.winogradChunk(g, batch: perWorker, floatBudget: winogradBudget, tile: tile)
        let tiles = chunk * ConvKernels.winogradTiles(g, tile: tile)
        scratch.transformed.reserve(tile.planes * g.inChannels * g.outChannels)
        return (scratch.winogradTiles(workers: workers, vCount: tile.planes * tiles * g.inChannels,
                                      mCount: tile.planes * tiles * g.outChannels), chunk)
    }

    public func forward(_ input: FloatBuffer, batch: Int, mode: ForwardMode) -> FloatBuffer {
        self.input = input
        return run(input, batch: batch, weight: weight.value, bias: bias?.value)
    }

    /// Inference with a following BatchNorm folded in (`y·scale + shift` per output channel):
    /// W·scale and b·scale + shift, so the normalisation costs no pass over the activations; and
    /// with what follows the normalisation (a residual addition, a ReLU) fused into the store.
    public func forward(_ input: FloatBuffer, batch: Int, foldingScale scale: [Float], shift: [Float],
                        epilogue: ConvEpilogue = .none) -> FloatBuffer {
        let cout = geometry.outChannels
        ConvKernels.scaleOutputChannels(weight.value, by: scale, into: &folded.weight)
        folded.bias = (0..<cout).map { (bias?.value[$0] ?? 0) * scale[$0] + shift[$0] }
        return run(input, batch: batch, weight: folded.weight, bias: folded.bias, epilogue: epilogue)
    }

    /// Inference with what follows the convolution (a residual addition, a ReLU) fused into the store.
    public func forward(_ input: FloatBuffer, batch: Int, epilogue: ConvEpilogue) -> FloatBuffer {
        run(input, batch: batch, weight: weight.value, bias: bias?.value, epilogue: epilogue)
    }

    private var folded: (weight: [Float], bias: [Float]) = ([], [])

    private func run(_ input: FloatBuffer, batch: Int, weight: [Float], bias: [Float]?,
                     epilogue: ConvEpilogue = .none) -> FloatBuffer {
        output.reserve(batch * geometry.outputCount)
        if usesWinograd(forward: true) {
            let tile = winogradTile ?? ConvKernels.preferredWinogradTile(geometry)
            let (tiles, chunk) = prepareWinograd(geometry, batch: batch, tile: tile)
            ConvKernels.winogradWeights(geometry, weight: weight, inputGradient: false, tile: tile, into: scratch.transformed.pointer)
            ConvKernels.winogradForward(geometry, input: input.pointer, batch: batch, u: scratch.transformed.pointer, bias: bias,
                                        epilogue: epilogue, tile: tile, output: output.pointer, v: tiles.v, m: tiles.m, chunk: chunk)
            return output
        }
        let (chunk, buffers) = prepareScratch(batch)
        ConvKernels.forward(geometry, input: input.pointer, batch: batch, weight: weight, bias: bias,
                            output: output.pointer, cols: buffers.cols, chunk: chunk, threads: threads,
                            direct: allowsDirectConvolution, epilogue: epilogue)
        return output
    }

    public func useInputGradientBuffer(_ buffer: FloatBuffer) -> Bool {
        dInput = buffer
        return true
    }

    public func backward(_ dOutput: FloatBuffer, batch: Int) -> FloatBuffer {
        guard let input else { preconditionFailure("Conv2D \(name): backward before forward") }
        if needsInputGradient { dInput.reserve(batch * geometry.inputCount) }
        if usesWinograd(forward: false) {
            backwardWinograd(input: input, dOutput: dOutput, batch: batch)
            return dInput
        }
        let (chunk, buffers) = prepareScratch(batch)
        ConvKernels.backward(geometry, input: input.pointer, batch: batch, weight: weight.value,
                             dOutput: dOutput.pointer, dWeight: &weight.gradient,
                             dInput: needsInputGradient ? dInput.pointer : nil,
                             cols: buffers.cols, partials: buffers.partials, chunk: chunk, threads: threads)
        if let bias {
            ConvKernels.columnSums(dOutput.pointer, rows: batch * geometry.outHeight * geometry.outWidth,
                                   columns: geometry.outChannels, into: &bias.gradient)
        }
        return dInput
    }

    /// dW by Winograd (no im2col at all) and, when needed, dX as the convolution of dY with the
    /// rotated filter, also by Winograd.
    private func backwardWinograd(input: FloatBuffer, dOutput: FloatBuffer, batch: Int) {
        let tile = winogradTile ?? ConvKernels.preferredWinogradTile(geometry)
        let (tiles, chunk) = prepareWinograd(geometry, batch: batch, tile: tile)
        let size = tile.planes * geometry.inChannels * geometry.outChannels
        let dWeightTiles = scratch.winogradWeightGradients(workers: tiles.v.count, count: size)
        ConvKernels.winogradWeightGradient(geometry, input: input.pointer, batch: batch, dOutput: dOutput.pointer,
                                           dWeight: &weight.gradient, tile: tile, v: tiles.v, m: tiles.m,
                                           what: dWeightTiles, chunk: chunk)
        if let bias {
            ConvKernels.columnSums(dOutput.pointer, rows: batch * geometry.outHeight * geometry.outWidth,
                                   columns: geometry.outChannels, into: &bias.gradient)
        }
        if needsInputGradient {
            let g = ConvKernels.winogradInputGradientGeometry(geometry)
            let tile = winogradTile ?? ConvKernels.preferredWinogradTile(g)
            let (tiles, chunk) = prepareWinograd(g, batch: batch, tile: tile)
            ConvKernels.winogradWeights(geometry, weight: weight.value, inputGradient: true, tile: tile,
                                        into: scratch.transformed.pointer)
            ConvKernels.winogradForward(g, input: dOutput.pointer, batch: batch, u: scratch.transformed.pointer, bias: nil,
                                        tile: tile, output: dInput.pointer, v: tiles.v, m: tiles.m, chunk: chunk)
        }
    }
}
