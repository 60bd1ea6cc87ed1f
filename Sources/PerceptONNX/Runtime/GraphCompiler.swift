import PerceptCore
import PerceptNetwork

/// Turns an `ONNXModel` into a `GraphPlan`: the nodes the requested output needs, in order, with
/// constant subgraphs folded, BatchNorm folded into the convolution before it, `Pad` merged into
/// the convolution after it, and activations, SiLU (`Sigmoid`·`Mul`) and residual `Add`s fused
/// into the store of the step before them. Images are kept NHWC; each node lowers to a fast step
/// or, for forms the fast steps do not cover, to its reference operator.
struct GraphCompiler {
    let model: ONNXModel
    /// Constants: initialisers, `Constant` nodes and everything computed from them alone.
    var folder: ReferenceEvaluator
    /// Each activation value's index by name (aliases share one index).
    var values: [String: Int] = [:]
    /// Per-item dimensions of each value, in ONNX's order without the batch axis.
    var dims: [[Int]] = []
    var steps: [any GraphStep] = []
    /// The step that writes each value (graph input: none).
    var producer: [Int: Int] = [:]
    /// How many needed nodes read each name (the requested output counts as one more reader).
    var readers: [String: Int] = [:]
    /// `Pad` outputs not yet materialised: a following convolution takes the padding itself.
    var pendingPads: [String: (source: String, pads: [Int], node: ONNXNode)] = [:]
    /// Nodes already lowered as part of an earlier one (the `Mul` of a SiLU).
    var absorbed: Set<Int> = []
    var outputName = ""
    /// The name a value was last given (the output of the last node fused into its step): where a
    /// later compilation can start (`start`).
    var latestName: [Int: String] = [:]
    /// Values that are another value's floats under other dimensions (a reshape): value → the value owning the storage.
    var sharedStorage: [Int: Int] = [:]
    /// Compiling for training (`GraphTrainer`): activations other than ReLU and clip stay steps of
    /// their own, since a fused store keeps only its output, from which only those two have a derivative.
    var forTraining = false
    /// Where the compiled part starts when not at the graph input: a value and its per-item dimensions.
    var start: (name: String, dims: [Int])?
    /// The graph input's declared batch size (nil when symbolic), accepted as a Reshape's first dimension.
    var declaredBatch: Int?

    init(model: ONNXModel) {
        self.model = model
        folder = ReferenceEvaluator(model: model)
    }

    var opset: Int { model.opsetVersion }

    /// Compiles the graph up to `output`.
    mutating func compile(output: String) throws -> GraphPlan {
        if let start {
            declaredBatch = model.inputs.first?.shape.first ?? nil
            outputName = output
            values[start.name] = newValue(start.dims)
            return try lowerNodes(needed: try neededNodes(for: output), output: output)
        }
        guard let input = model.inputs.first else { throw failure("the graph has no input") }
        guard model.inputs.count == 1 else {
            throw failure("the graph has \(model.inputs.count) inputs (\(model.inputs.map(\.name).joined(separator: ", "))); "
                + "an image model has one")
        }
        guard input.elementType == "FLOAT", input.shape.count == 4,
              let channels = input.shape[1], let height = input.shape[2], let width = input.shape[3] else {
            throw failure("the input \(input) is not an image: Percept runs graphs whose input is float32 [N, C, H, W] with "
                + "fixed C, H and W")
        }
        declaredBatch = input.shape[0]
        outputName = output
        values[input.name] = newValue([channels, height, width])

        return try lowerNodes(needed: try neededNodes(for: output), output: output)
    }

    private mutating func lowerNodes(needed: [Int], output: String) throws -> GraphPlan {
        for index in needed {
            for name in model.nodes[index].inputs where !name.isEmpty { readers[name, default: 0] += 1 }
        }
        readers[output, default: 0] += 1
        for index in needed where !absorbed.contains(index) {
            let node = model.nodes[index]
            if try folder.fold(node) { continue }
            try lower(node, index: index)
        }
        guard let outputValue = try? value(output) else {
            throw PerceptError.invalidArgument("'\(output)' in \(model.path) does not depend on the input image")
        }
        return plan(input: 0, output: outputValue)
    }

    /// The indices of the nodes `output` depends on, in the file's order.
    func neededNodes(for output: String) throws -> [Int] {
        var writer: [String: Int] = [:]
        for (index, node) in model.nodes.enumerated() { for name in node.outputs { writer[name] = index } }
        guard writer[output] != nil || model.inputs.contains(where: { $0.name == output }) else {
            throw PerceptError.invalidArgument("\(model.path) has no value named '\(output)'; its outputs are "
                + model.outputs.map(\.name).joined(separator: ", "))
        }
        var needed = Set<Int>(), pending = [output]
        while let name = pending.popLast() {
            if name == start?.name { continue }   // the compiled part starts here
            guard let index = writer[name], needed.insert(index).inserted else { continue }
            pending += model.nodes[index].inputs.filter { !$0.isEmpty }
        }
        return needed.sorted()
    }

    // MARK: values

    mutating func newValue(_ itemDims: [Int]) -> Int {
        dims.append(itemDims)
        return dims.count - 1
    }

    /// The activation value `name`, materialising a pending `Pad`.
    mutating func value(_ name: String) throws -> Int {
        if let index = values[name] { return index }
        if let pad = pendingPads[name] {
            let source = try value(pad.source)
            let shape = try imageShape(source, pad.node)
            let p = pad.pads
            let output = newValue([shape.channels, shape.height + p[0] + p[2], shape.width + p[1] + p[3]])
            append(PadStep(nodeName: pad.node.name, input: source, output: output, shape: shape,
                           pads: (p[0], p[1], p[2], p[3]), value: 0))
            values[name] = output
            return output
        }
        throw failure("value '\(name)' is neither computed from the input nor a constant")
    }

    func isActivation(_ name: String) -> Bool { values[name] != nil || pendingPads[name] != nil }
    func constant(_ name: String) -> Tensor? { name.isEmpty ? nil : folder.constants[name] }

    func imageShape(_ value: Int, _ node: ONNXNode) throws -> FeatureShape {
        let d = dims[value]
        guard d.count == 3 else { throw ReferenceOperators.unsupported(node, "expects an image [N, C, H, W], got [N, \(d)]") }
        return FeatureShape(height: d[1], width: d[2], channels: d[0])
    }

    mutating func append(_ step: any GraphStep) {
        producer[step.output] = steps.count
        steps.append(step)
    }

    /// Names `name` as another name of `value` (Identity, a fused activation, a reshape that moves nothing).
    mutating func alias(_ name: String, to value: Int) {
        values[name] = value
        latestName[value] = name
    }

    /// Whether the step that wrote `name` may take what follows into its store: `name` is read
    /// once (by the node at hand) and is not the requested output.
    func fusableProducer(of name: String) -> (any GraphStep)? {
        guard name != outputName, readers[name] == 1, let value = values[name], let index = producer[value],
              steps[index].output == value else { return nil }
        return steps[index]
    }

    func failure(_ reason: String) -> PerceptError { PerceptError.unsupported(model.path, reason) }

    // MARK: memory

    /// Assigns each value a slot, reusing a slot once every reader of its value has run.
    func plan(input: Int, output: Int) -> GraphPlan {
        func owner(_ value: Int) -> Int { sharedStorage[value].map(owner) ?? value }
        var lastRead = [Int](repeating: -1, count: dims.count)
        for (index, step) in steps.enumerated() { for value in step.inputs { lastRead[owner(value)] = index } }
        lastRead[owner(output)] = Int.max
        let counts = dims.map { $0.reduce(1, *) }
        var slotOfValue = [Int](repeating: -1, count: dims.count)
        var slotCounts: [Int] = []
        var free: [Int] = []
        var live: [Int] = []
        func assign(_ value: Int) {
            // Training keeps every value for the backward pass: no slot is reused.
            if !forTraining, let reuse = free.indices.max(by: { slotCounts[free[$0]] < slotCounts[free[$1]] }) {
                slotOfValue[value] = free.remove(at: reuse)
                slotCounts[slotOfValue[value]] = max(slotCounts[slotOfValue[value]], counts[value])
            } else {
                slotOfValue[value] = slotCounts.count
                slotCounts.append(counts[value])
            }
            live.append(value)
        }
        assign(input)
        for (index, step) in steps.enumerated() {
            // Values read for the last time before this step free their slots; this step's inputs stay.
            for value in live where lastRead[value] < index { free.append(slotOfValue[value]) }
            live.removeAll { lastRead[$0] < index }
            if slotOfValue[step.output] < 0 { assign(step.output) }
        }
        for value in sharedStorage.keys { slotOfValue[value] = slotOfValue[owner(value)] }
        return GraphPlan(steps: steps, valueCounts: counts, slotOfValue: slotOfValue, slotCounts: slotCounts,
                         inputValue: input, outputValue: output)
    }
}
