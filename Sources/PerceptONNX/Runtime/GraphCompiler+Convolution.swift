import PerceptCore
import PerceptNetwork

/// Lowering `Conv`, the `BatchNormalization` and `Pad` around it, and `Gemm`/`MatMul`.
extension GraphCompiler {
    mutating func convolution(_ node: ONNXNode) throws {
        guard let weight = constant(node.inputs[1]), weight.rank == 4,
              node.inputs.count < 3 || node.inputs[2].isEmpty || constant(node.inputs[2]) != nil else {
            return try fallback(node)
        }
        // A Pad of zeros just before takes effect as more padding of the convolution.
        var inputName = node.inputs[0]
        var extra = [0, 0, 0, 0]
        if let pad = pendingPads[inputName], (node.attributes.string("auto_pad") ?? "NOTSET") == "NOTSET" {
            inputName = pad.source
            extra = pad.pads
        }
        let source = try value(inputName)
        let shape = try imageShape(source, node)
        let (m, perGroup, kh, kw) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        let groups = node.attributes.int("group") ?? 1
        let (wy, wx) = try ReferenceOperators.windows(node, kernel: [kh, kw], height: shape.height + extra[0] + extra[2],
                                                      width: shape.width + extra[1] + extra[3])
        let pads = (top: wy.before + extra[0], left: wx.before + extra[1], bottom: wy.after + extra[2], right: wx.after + extra[3])
        let c = shape.channels
        guard perGroup * groups == c, wy.dilation == 1, wx.dilation == 1, wy.stride == wx.stride else {
            return try fallback(node)
        }
        let bias = node.inputs.count > 2 ? constant(node.inputs[2])?.scalars : nil
        let outHeight = (shape.height + pads.top + pads.bottom - kh) / wy.stride + 1
        let outWidth = (shape.width + pads.left + pads.right - kw) / wx.stride + 1
        guard outHeight > 0, outWidth > 0 else { throw ReferenceOperators.unsupported(node, "the kernel is larger than the padded input") }
        let w = weight.scalars
        let kind: ConvolutionStep.Kind
        var stored = [Float](repeating: 0, count: w.count)
        if groups == 1 {
            // OIHW → HWIO (Cin×Cout for a 1×1 kernel).
            for o in 0..<m { for i in 0..<c { for y in 0..<kh { for x in 0..<kw {
                stored[((y * kw + x) * c + i) * m + o] = w[((o * c + i) * kh + y) * kw + x]
            } } } }
            if kh == 1, kw == 1, wy.stride == 1, pads == (0, 0, 0, 0) {
                kind = .pointwise(pixels: shape.height * shape.width, inChannels: c, outChannels: m)
            } else {
                let symmetric = pads.top == pads.left && pads.left == pads.bottom && pads.bottom == pads.right
                let geometry = ConvGeometry(height: shape.height + (symmetric ? 0 : pads.top + pads.bottom),
                                            width: shape.width + (symmetric ? 0 : pads.left + pads.right), inChannels: c,
                                            kernelHeight: kh, kernelWidth: kw, stride: wy.stride,
                                            padding: symmetric ? pads.top : 0, outChannels: m)
                kind = .dense(geometry, padding: symmetric ? (0, 0, 0, 0) : pads)
            }
        } else if groups == c, m == c, kh == kw {
            // [C, 1, K, K] → K×K×C.
            for ch in 0..<c { for y in 0..<kh { for x in 0..<kw { stored[(y * kw + x) * c + ch] = w[(ch * kh + y) * kw + x] } } }
            kind = .depthwise(DepthwiseGeometry(height: shape.height, width: shape.width, channels: c, kernel: kh,
                                                stride: wy.stride, padding: pads))
        } else {
            return try fallback(node)
        }
        let result = newValue([m, outHeight, outWidth])
        let step = ConvolutionStep(nodeName: node.name, input: source, output: result, kind: kind, weight: stored,
                                   epilogue: GraphEpilogue(bias: bias))
        step.origin = ConvolutionOrigin(node: node.name, weight: node.inputs[1],
                                        bias: node.inputs.count > 2 && !node.inputs[2].isEmpty ? node.inputs[2] : nil)
        append(step)
        alias(node.outputs[0], to: result)
    }

    /// BatchNormalization right after a convolution: y = (conv(x) − mean)·s + β with s = γ/√(var + ε)
    /// is a convolution with weights W·s and bias (b − mean)·s + β.
    mutating func foldBatchNorm(_ node: ONNXNode) throws -> Bool {
        guard node.inputs.count >= 5, let step = fusableProducer(of: node.inputs[0]) as? ConvolutionStep,
              step.epilogue.activation == nil, step.epilogue.addendInput == nil,
              let gamma = constant(node.inputs[1]), let beta = constant(node.inputs[2]),
              let mean = constant(node.inputs[3]), let variance = constant(node.inputs[4]) else { return false }
        let channels = gamma.count
        let epsilon = node.attributes.float("epsilon") ?? 1e-5
        guard dims[step.output].first == channels else { return false }
        let scale = (0..<channels).map { gamma.scalars[$0] / (variance.scalars[$0] + epsilon).squareRoot() }
        for i in step.weight.indices { step.weight[i] *= scale[i % channels] }
        let bias = step.epilogue.bias ?? [Float](repeating: 0, count: channels)
        step.epilogue.bias = (0..<channels).map { (bias[$0] - mean.scalars[$0]) * scale[$0] + beta.scalars[$0] }
        step.origin?.norm = (node.inputs[1], node.inputs[2], node.inputs[3], node.inputs[4], epsilon)
        alias(node.outputs[0], to: step.output)
        return true
    }

    /// A constant-zero Pad of rows and columns waits for its reader: a convolution takes it as padding.
    mutating func pad(_ node: ONNXNode) throws {
        let mode = node.attributes.string("mode") ?? "constant"
        let pads = opset < 11 ? node.attributes.ints("pads") : (node.inputs.count > 1 ? folder.integers[node.inputs[1]] : nil)
        let fill = opset < 11 ? (node.attributes.float("value") ?? 0)
            : (node.inputs.count > 2 ? constant(node.inputs[2])?.scalars.first ?? 0 : 0)
        let source = try value(node.inputs[0])
        guard mode == "constant", fill == 0, dims[source].count == 3, let pads, pads.count == 8,
              pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0, pads.allSatisfy({ $0 >= 0 }) else {
            return try fallback(node)
        }
        pendingPads[node.outputs[0]] = (node.inputs[0], [pads[2], pads[3], pads[6], pads[7]], node)
    }

    /// Gemm or MatMul of an item's rows by a constant matrix.
    mutating func matrix(_ node: ONNXNode) throws {
        guard node.inputs.count >= 2, isActivation(node.inputs[0]), var b = constant(node.inputs[1]), b.rank == 2 else {
            return try fallback(node)
        }
        let source = try value(node.inputs[0])
        let d = dims[source]
        let isGemm = node.operatorType == "Gemm"
        let a = node.attributes
        if isGemm {
            guard d.count == 1, (a.int("transA") ?? 0) == 0 else { return try fallback(node) }
            if (a.int("transB") ?? 0) != 0 { b = ReferenceOperators.transposed(b, [1, 0]) }
        } else {
            guard !storedChannelsLast(d), !d.isEmpty else { return try fallback(node) }
        }
        let (k, columns) = (b.shape[0], b.shape[1])
        guard d.last == k else { throw ReferenceOperators.unsupported(node, "inner sizes \(d.last ?? 0) and \(k) differ") }
        let alpha = isGemm ? (a.float("alpha") ?? 1) : 1
        var bias: [Float]?
        if isGemm, node.inputs.count > 2, !node.inputs[2].isEmpty {
            guard let c = constant(node.inputs[2]), c.count == columns || c.count == 1, c.shape.dropLast().allSatisfy({ $0 == 1 }) else {
                return try fallback(node)
            }
            let beta = a.float("beta") ?? 1
            bias = (0..<columns).map { beta * c.scalars[c.count == 1 ? 0 : $0] }
        }
        let result = newValue(Array(d.dropLast()) + [columns])
        let step = MatrixStep(nodeName: node.name, input: source, output: result, rowsPerItem: d.reduce(1, *) / k, inner: k,
                              columns: columns, matrix: alpha == 1 ? b.scalars : b.scalars.map { $0 * alpha },
                              epilogue: GraphEpilogue(bias: bias))
        let hasBias = isGemm && node.inputs.count > 2 && !node.inputs[2].isEmpty
        step.origin = MatrixOrigin(node: node.name, matrix: node.inputs[1], transposed: isGemm && (a.int("transB") ?? 0) != 0,
                                   alpha: alpha, bias: hasBias ? node.inputs[2] : nil, beta: a.float("beta") ?? 1)
        append(step)
        alias(node.outputs[0], to: result)
    }
}
