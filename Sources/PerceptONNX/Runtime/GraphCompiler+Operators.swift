import PerceptCore
import PerceptNetwork

/// Lowering each operator to a step.
extension GraphCompiler {
    mutating func lower(_ node: ONNXNode, index: Int) throws {
        guard let output = node.outputs.first else { return }
        let a = node.attributes
        switch node.operatorType {
        case "Identity", "Dropout":
            alias(output, to: try value(node.inputs[0]))
        case "Relu":
            try activation(.relu, node)
        case "Clip":
            let (low, high) = try ReferenceOperators.clipBounds(node, folder.inputs(of: node, values: [:]), opset: opset)
            try activation(.clip(low, high), node)
        case "HardSigmoid":
            try activation(.hardSigmoid(alpha: a.float("alpha") ?? 0.2, beta: a.float("beta") ?? 0.5), node)
        case "HardSwish":
            try activation(.hardSwish, node)
        case "Erf":
            try activation(.erf, node)
        case "Sigmoid":
            if let mul = siluProduct(of: node, at: index) {
                absorbed.insert(mul.index)
                try activation(.silu, node, output: mul.output)
            } else {
                try activation(.sigmoid, node)
            }
        case "Add", "Sub", "Mul", "Div":
            if node.operatorType == "Add", try fuseResidual(node) { return }
            try binary(node)
        case "Conv":
            try convolution(node)
        case "BatchNormalization":
            if try foldBatchNorm(node) { return }
            try fallback(node)
        case "Pad":
            try pad(node)
        case "MaxPool", "AveragePool":
            try pool(node)
        case "GlobalAveragePool":
            try globalAverage(node, keepsDims: true)
        case "ReduceMean":
            let source = try value(node.inputs[0])
            let axes = Set((a.ints("axes") ?? folder.integers[node.inputs.count > 1 ? node.inputs[1] : ""] ?? [])
                .map { ReferenceOperators.normalised($0, rank: 4) })
            if dims[source].count == 3, axes == [2, 3] {
                try globalAverage(node, keepsDims: (a.int("keepdims") ?? 1) != 0)
            } else {
                try fallback(node)
            }
        case "Flatten", "Reshape", "Squeeze", "Unsqueeze":
            try reshape(node)
        case "Gemm", "MatMul":
            try matrix(node)
        case "Concat":
            try concat(node)
        default:
            try fallback(node)
        }
    }

    // MARK: activations

    /// `Mul(x, Sigmoid(x))` reading this Sigmoid's output once: SiLU.
    func siluProduct(of node: ONNXNode, at index: Int) -> (index: Int, output: String)? {
        guard let gate = node.outputs.first, readers[gate] == 1, gate != outputName else { return nil }
        let x = node.inputs[0]
        for later in (index + 1)..<model.nodes.count {
            let candidate = model.nodes[later]
            guard candidate.operatorType == "Mul", candidate.inputs.contains(gate) else { continue }
            return Set(candidate.inputs) == Set([gate, x]) ? (later, candidate.outputs[0]) : nil
        }
        return nil
    }

    /// y = f(x), fused into the step that wrote x when it can be.
    mutating func activation(_ function: GraphActivation, _ node: ONNXNode, output: String? = nil) throws {
        let x = node.inputs[0], y = output ?? node.outputs[0]
        let source = try value(x)
        // For a SiLU, x is also read by the Mul being absorbed: one reader fewer.
        var fusable = output == nil ? fusableProducer(of: x) : (readers[x] == 2 ? producerStep(of: x) : nil)
        if forTraining, !function.isDifferentiableFromOutput { fusable = nil }
        if let step = fusable as? ConvolutionStep, step.epilogue.activation == nil {
            step.epilogue.activation = function
            alias(y, to: source)
        } else if let step = fusable as? MatrixStep, step.epilogue.activation == nil {
            step.epilogue.activation = function
            alias(y, to: source)
        } else {
            let result = newValue(dims[source])
            append(ActivationStep(nodeName: node.name, input: source, output: result, function: function,
                                  count: dims[source].reduce(1, *)))
            alias(y, to: result)
        }
    }

    func producerStep(of name: String) -> (any GraphStep)? {
        guard name != outputName, let value = values[name], let index = producer[value] else { return nil }
        return steps[index]
    }

    // MARK: elementwise

    /// Add(conv(x), r) with r computed before the convolution: r goes into the convolution's store.
    mutating func fuseResidual(_ node: ONNXNode) throws -> Bool {
        guard node.inputs.count == 2, isActivation(node.inputs[0]), isActivation(node.inputs[1]) else { return false }
        for (main, other) in [(node.inputs[0], node.inputs[1]), (node.inputs[1], node.inputs[0])] {
            guard let step = fusableProducer(of: main) as? ConvolutionStep, step.epilogue.activation == nil,
                  step.epilogue.addendInput == nil, let stepIndex = producer[step.output] else { continue }
            let addend = try value(other)
            guard dims[addend] == dims[step.output], producer[addend].map({ $0 < stepIndex }) ?? true else { continue }
            step.inputs.append(addend)
            step.epilogue.addendInput = step.inputs.count - 1
            alias(node.outputs[0], to: step.output)
            return true
        }
        return false
    }

    mutating func binary(_ node: ONNXNode) throws {
        let operation: BinaryStep.Operation = switch node.operatorType {
        case "Add": .add
        case "Sub": .subtract
        case "Mul": .multiply
        default: .divide
        }
        // The output's per-item shape: the activation operand's (broadcasting never grows an image).
        guard let shaping = node.inputs.first(where: isActivation) else { return try fallback(node) }
        let outputDims = dims[try value(shaping)]
        let rank = outputDims.count + 1
        let (pixels, channels) = outputDims.count == 3 ? (outputDims[1] * outputDims[2], outputDims[0])
            : outputDims.count == 1 ? (1, outputDims[0]) : (0, 0)
        guard pixels > 0 else { return try fallback(node) }
        var inputs: [Int] = []
        var operands: [BinaryStep.Operand] = []
        for name in node.inputs {
            if isActivation(name) {
                let v = try value(name)
                let d = dims[v]
                let pattern: BinaryStep.Pattern
                if d == outputDims { pattern = .full }
                else if d.count == outputDims.count, d.first == channels, d.dropFirst().allSatisfy({ $0 == 1 }) { pattern = .channels }
                else { return try fallback(node) }
                inputs.append(v)
                operands.append(.init(input: inputs.count - 1, constant: [], pattern: pattern))
            } else if let t = constant(name) {
                // Align the constant's shape to the full rank (batch first) and classify it.
                guard t.rank <= rank else { return try fallback(node) }
                let full = Array(repeating: 1, count: rank - t.rank) + t.shape
                guard full[0] == 1 else {
                    throw ReferenceOperators.unsupported(node, "constant '\(name)' of shape \(t.shape) holds one value per "
                        + "batch item, which ties the graph to a batch of \(full[0]); Percept runs any batch size, so export "
                        + "the constant with a batch dimension of 1")
                }
                let item = Array(full.dropFirst())
                if t.count == 1 {
                    operands.append(.init(input: nil, constant: [t.scalars[0]], pattern: .scalar))
                } else if item.first == channels, item.dropFirst().allSatisfy({ $0 == 1 }) {
                    operands.append(.init(input: nil, constant: t.scalars, pattern: .channels))
                } else if item == outputDims {
                    let stored = outputDims.count == 3
                        ? ReferenceOperators.transposed(Tensor(shape: outputDims, scalars: t.scalars), [1, 2, 0]).scalars
                        : t.scalars
                    operands.append(.init(input: nil, constant: stored, pattern: .full))
                } else {
                    return try fallback(node)
                }
            } else {
                throw failure("value '\(name)' read by node '\(node.name)' is not available")
            }
        }
        guard operands.count == 2 else { return try fallback(node) }
        let result = newValue(outputDims)
        append(BinaryStep(nodeName: node.name, inputs: inputs, output: result, operation: operation, left: operands[0],
                          right: operands[1], pixels: pixels, channels: channels))
        alias(node.outputs[0], to: result)
    }

    // MARK: pooling and shapes

    mutating func pool(_ node: ONNXNode) throws {
        let source = try value(node.inputs[0])
        let shape = try imageShape(source, node)
        guard let kernel = node.attributes.ints("kernel_shape") else { return try fallback(node) }
        let (wy, wx) = try ReferenceOperators.windows(node, kernel: kernel, height: shape.height, width: shape.width)
        let ceilMode = (node.attributes.int("ceil_mode") ?? 0) != 0
        let (oh, ow) = (wy.outputSize(shape.height, ceilMode: ceilMode), wx.outputSize(shape.width, ceilMode: ceilMode))
        guard oh > 0, ow > 0, node.outputs.count == 1 || node.outputs[1].isEmpty else { return try fallback(node) }
        let result = newValue([shape.channels, oh, ow])
        append(PoolingStep(nodeName: node.name, input: source, output: result, shape: shape, windowY: wy, windowX: wx,
                           outHeight: oh, outWidth: ow, isMax: node.operatorType == "MaxPool",
                           countsPadding: (node.attributes.int("count_include_pad") ?? 0) != 0))
        alias(node.outputs[0], to: result)
    }

    mutating func globalAverage(_ node: ONNXNode, keepsDims: Bool) throws {
        let source = try value(node.inputs[0])
        let shape = try imageShape(source, node)
        let result = newValue(keepsDims ? [shape.channels, 1, 1] : [shape.channels])
        append(GlobalAverageStep(nodeName: node.name, input: source, output: result, shape: shape))
        alias(node.outputs[0], to: result)
    }

    /// Whether a value's storage differs from ONNX's row-major order (an image with several pixels and channels).
    func storedChannelsLast(_ d: [Int]) -> Bool { d.count == 3 && d[0] > 1 && d[1] * d[2] > 1 }

    /// Flatten, Reshape, Squeeze, Unsqueeze: new dimensions over the same floats, reordered only
    /// when an image's NHWC storage meets a shape that reads ONNX's order.
    mutating func reshape(_ node: ONNXNode) throws {
        let source = try value(node.inputs[0])
        let full = [declaredBatch ?? 1] + dims[source]
        let target: [Int]
        switch node.operatorType {
        case "Flatten":
            guard ReferenceOperators.normalised(node.attributes.int("axis") ?? 1, rank: full.count) == 1 else {
                throw ReferenceOperators.unsupported(node, "flattening other than after the batch axis (axis 1)")
            }
            target = [dims[source].reduce(1, *)]
        case "Reshape":
            guard node.inputs.count > 1, var shape = folder.integers[node.inputs[1]], !shape.isEmpty else {
                throw ReferenceOperators.unsupported(node, "the target shape is not a constant")
            }
            guard shape[0] == 0 || shape[0] == -1 || shape[0] == declaredBatch else {
                throw ReferenceOperators.unsupported(node, "reshaping across the batch axis (to \(shape))")
            }
            if shape[0] == -1, shape.dropFirst().contains(-1) {
                throw ReferenceOperators.unsupported(node, "two unknown dimensions in \(shape)")
            }
            shape[0] = full[0]
            target = Array(try ReferenceOperators.reshapedDimensions(full, shape, node).dropFirst())
        default:
            let axes = node.attributes.ints("axes") ?? (node.inputs.count > 1 ? folder.integers[node.inputs[1]] : nil)
            let resized = try ReferenceOperators.squeezedDimensions(full, axes: axes, node)
            guard resized.first == full[0], (axes ?? []).allSatisfy({ $0 != 0 && $0 != -resized.count - 1 }) else {
                throw ReferenceOperators.unsupported(node, "squeezing or inserting the batch axis")
            }
            target = Array(resized.dropFirst())
        }
        var current = source
        if storedChannelsLast(dims[source]) && dims[source] != target {
            let flat = newValue([dims[source].reduce(1, *)])
            append(LayoutStep(nodeName: node.name, input: source, output: flat, shape: try imageShape(source, node),
                              toChannelsFirst: true))
            current = flat
        }
        if storedChannelsLast(target) && dims[current] != target {
            let image = newValue(target)
            append(LayoutStep(nodeName: node.name, input: current, output: image,
                              shape: FeatureShape(height: target[1], width: target[2], channels: target[0]),
                              toChannelsFirst: false))
            current = image
        } else if dims[current] != target {
            // Same floats, new dimensions: a value of its own for the bookkeeping of shapes, sharing the storage.
            let renamed = newValue(target)
            sharedStorage[renamed] = current
            current = renamed
        }
        alias(node.outputs[0], to: current)
    }

    mutating func concat(_ node: ONNXNode) throws {
        guard node.inputs.allSatisfy(isActivation) else { return try fallback(node) }
        let parts = try node.inputs.map { try value($0) }
        let first = dims[parts[0]]
        let axis = ReferenceOperators.normalised(node.attributes.int("axis") ?? 1, rank: first.count + 1)
        let spatial = Array(first.dropFirst())
        guard axis == 1, parts.allSatisfy({ dims[$0].count == first.count && Array(dims[$0].dropFirst()) == spatial }),
              first.count == 3 || first.count == 1 else { return try fallback(node) }
        let widths = parts.map { dims[$0][0] }
        let result = newValue([widths.reduce(0, +)] + spatial)
        append(ConcatStep(nodeName: node.name, inputs: parts, output: result, pixels: spatial.reduce(1, *), widths: widths))
        alias(node.outputs[0], to: result)
    }

    // MARK: the rest

    /// Lowers `node` to its reference operator, after running it once on one item to learn its
    /// output's shape (and to fail here, at load, if it cannot run).
    mutating func fallback(_ node: ONNXNode) throws {
        var inputs: [Int] = []
        var sources: [Int?] = []
        var trial = folder.inputs(of: node, values: [:])
        for (position, name) in node.inputs.enumerated() {
            if !name.isEmpty, isActivation(name) {
                let v = try value(name)
                inputs.append(v)
                sources.append(inputs.count - 1)
                trial.tensors[position] = Tensor(zeros: [1] + dims[v])
            } else {
                sources.append(nil)
            }
        }
        let constants = folder.inputs(of: node, values: [:])
        let probe = try ReferenceOperators.evaluate(node, trial, opset: opset)
        guard probe.shape.first == 1 else {
            throw ReferenceOperators.unsupported(node, "its output \(probe.shape) does not keep the batch axis first")
        }
        let result = newValue(Array(probe.shape.dropFirst()))
        append(FallbackStep(node: node, inputs: inputs, sources: sources, constants: constants,
                            inputDims: inputs.map { dims[$0] }, outputDims: dims[result], output: result, opset: opset))
        alias(node.outputs[0], to: result)
    }
}
