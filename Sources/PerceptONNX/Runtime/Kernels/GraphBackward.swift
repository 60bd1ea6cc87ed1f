import PerceptCore
import PerceptNetwork

/// What one step's backward pass reads and writes, for one batch.
struct BackwardBuffers {
    /// The step's forward inputs and output.
    var inputs: [UnsafePointer<Float>]
    var output: UnsafePointer<Float>
    /// ∂loss/∂output, complete (every reader of the output ran its backward pass before).
    var dOutput: UnsafePointer<Float>
    /// ∂loss/∂input for each input, added to (a value read twice gets both contributions).
    var dInputs: [UnsafeMutablePointer<Float>]
    /// `backwardScratchCount(batch:)` floats.
    var scratch: UnsafeMutablePointer<Float>
}

/// A step that can pass gradients back: what fine-tuning a backbone's last blocks needs.
protocol TrainableStep: GraphStep {
    func backwardScratchCount(batch: Int) -> Int
    /// Adds ∂loss/∂input to `dInputs` and sets the step's own parameter gradients.
    func backward(_ buffers: BackwardBuffers, batch: Int)
}

extension TrainableStep {
    func backwardScratchCount(batch: Int) -> Int { 0 }
}

extension ConvolutionStep: TrainableStep {
    var outputCount: Int {
        switch kind {
        case .pointwise(let pixels, _, let cout): return pixels * cout
        case .dense(let g, _): return g.outputCount
        case .depthwise(let g): return g.outputCount
        }
    }
    var inputCount: Int {
        switch kind {
        case .pointwise(let pixels, let cin, _): return pixels * cin
        case .dense(let g, _): return g.inputCount
        case .depthwise(let g): return g.inputCount
        }
    }
    var outChannels: Int {
        switch kind {
        case .pointwise(_, _, let cout): return cout
        case .dense(let g, _): return g.outChannels
        case .depthwise(let g): return g.channels
        }
    }

    func backwardScratchCount(batch: Int) -> Int {
        let dz = batch * outputCount, dx = batch * inputCount
        switch kind {
        case .pointwise: return dz
        case .dense(let g, _): return dz + dx + ConvKernels.chunkImages(g, batch: batch, floatBudget: 1 << 21)
            * g.outHeight * g.outWidth * g.patchLength
        case .depthwise(let g): return dz + dx + DepthwiseKernels.weightGradientScratch(g, batch: batch)
        }
    }

    func backward(_ b: BackwardBuffers, batch: Int) {
        let count = batch * outputCount, cout = outChannels
        // ∂loss/∂(pre-activation): the activation's derivative read from the stored output.
        let dz = b.scratch
        if let activation = epilogue.activation {
            for i in 0..<count { dz[i] = b.dOutput[i] * activation.derivative(output: b.output[i]) }
        } else {
            dz.update(from: b.dOutput, count: count)
        }
        if let addend = epilogue.addendInput { for i in 0..<count { b.dInputs[addend][i] += dz[i] } }
        if epilogue.bias != nil {
            biasGradient = [Float](repeating: 0, count: cout)
            for row in 0..<(count / cout) { for j in 0..<cout { biasGradient[j] += dz[row * cout + j] } }
        }
        weightGradient = [Float](repeating: 0, count: weight.count)
        let dx = b.dInputs[0]
        switch kind {
        case .pointwise(let pixels, let cin, _):
            let rows = batch * pixels
            weight.withUnsafeBufferPointer { w in
                weightGradient.withUnsafeMutableBufferPointer { dw in
                    BLAS.gemm(transposeA: true, m: cin, n: cout, k: rows, a: b.inputs[0], b: dz, c: dw.baseAddress!)
                }
                BLAS.gemm(transposeB: true, m: rows, n: cin, k: cout, a: dz, b: w.baseAddress!, beta: 1, c: dx)
            }
        case .dense(let g, _):
            let dInput = dz + count, cols = dInput + batch * g.inputCount
            ConvKernels.backward(g, input: b.inputs[0], batch: batch, weight: weight, dOutput: dz, dWeight: &weightGradient,
                                 dInput: dInput, cols: [cols], partials: [],
                                 chunk: ConvKernels.chunkImages(g, batch: batch, floatBudget: 1 << 21), threads: 1)
            for i in 0..<(batch * g.inputCount) { dx[i] += dInput[i] }
        case .depthwise(let g):
            let dInput = dz + count, partials = dInput + batch * g.inputCount
            var noBias: [Float] = []
            if epilogue.bias != nil {
                DepthwiseKernels.weightGradient(g, input: b.inputs[0], dOutput: dz, batch: batch, dWeight: &weightGradient,
                                                dBias: &biasGradient, partials: partials, threads: 1)
            } else {
                DepthwiseKernels.weightGradient(g, input: b.inputs[0], dOutput: dz, batch: batch, dWeight: &weightGradient,
                                                dBias: &noBias, partials: partials, threads: 1)
            }
            DepthwiseKernels.inputGradient(g, dOutput: dz, batch: batch, weight: weight, dInput: dInput, threads: 1)
            for i in 0..<(batch * g.inputCount) { dx[i] += dInput[i] }
        }
    }
}

extension ActivationStep: TrainableStep {
    func backward(_ b: BackwardBuffers, batch: Int) {
        for i in 0..<(batch * count) { b.dInputs[0][i] += b.dOutput[i] * function.derivative(b.inputs[0][i]) }
    }
}

extension GlobalAverageStep: TrainableStep {
    func backward(_ b: BackwardBuffers, batch: Int) {
        let (pixels, c) = (shape.height * shape.width, shape.channels)
        let scale = 1 / Float(pixels)
        for n in 0..<batch {
            let dy = b.dOutput + n * c, dx = b.dInputs[0] + n * shape.count
            for p in 0..<pixels { for ch in 0..<c { dx[p * c + ch] += dy[ch] * scale } }
        }
    }
}

extension LayoutStep: TrainableStep {
    func backward(_ b: BackwardBuffers, batch: Int) {
        let count = batch * shape.count
        let moved = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { moved.deallocate() }
        if toChannelsFirst {
            LayoutKernels.toChannelsLast(b.dOutput, shape, batch: batch, into: moved)
        } else {
            LayoutKernels.toChannelsFirst(b.dOutput, shape, batch: batch, into: moved)
        }
        for i in 0..<count { b.dInputs[0][i] += moved[i] }
    }
}

extension BinaryStep: TrainableStep {
    func backward(_ b: BackwardBuffers, batch: Int) {
        precondition(operation != .divide, "BinaryStep \(nodeName): Div has no backward pass (GraphTrainer refuses it)")
        for (isRight, operand, other) in [(false, left, right), (true, right, left)] {
            guard let input = operand.input else { continue }
            let sign: Float = operation == .subtract && isRight ? -1 : 1
            for n in 0..<batch {
                let dy = b.dOutput + n * pixels * channels
                let target = b.dInputs[input] + n * perItem(operand.pattern)
                for p in 0..<pixels {
                    for c in 0..<channels {
                        var g = sign * dy[p * channels + c]
                        if operation == .multiply {
                            let index = other.pattern == .full ? p * channels + c : other.pattern == .channels ? c : 0
                            g *= other.input.map { b.inputs[$0][n * perItem(other.pattern) + index] } ?? other.constant[index]
                        }
                        switch operand.pattern {
                        case .full: target[p * channels + c] += g
                        case .channels: target[c] += g
                        case .scalar: target[0] += g
                        }
                    }
                }
            }
        }
    }
}

extension MatrixStep: TrainableStep {
    func backward(_ b: BackwardBuffers, batch: Int) {
        let rows = batch * rowsPerItem
        let dz = UnsafeMutablePointer<Float>.allocate(capacity: rows * columns)
        defer { dz.deallocate() }
        let count = rows * columns
        if let activation = epilogue.activation {
            for i in 0..<count { dz[i] = b.dOutput[i] * activation.derivative(output: b.output[i]) }
        } else {
            dz.update(from: b.dOutput, count: count)
        }
        if epilogue.bias != nil {
            biasGradient = [Float](repeating: 0, count: columns)
            for r in 0..<rows { for j in 0..<columns { biasGradient[j] += dz[r * columns + j] } }
        }
        matrixGradient = [Float](repeating: 0, count: matrix.count)
        matrixGradient.withUnsafeMutableBufferPointer { dm in
            BLAS.gemm(transposeA: true, m: inner, n: columns, k: rows, a: b.inputs[0], b: dz, c: dm.baseAddress!)
        }
        matrix.withUnsafeBufferPointer { m in
            BLAS.gemm(transposeB: true, m: rows, n: inner, k: columns, a: dz, b: m.baseAddress!, beta: 1, c: b.dInputs[0])
        }
    }
}
