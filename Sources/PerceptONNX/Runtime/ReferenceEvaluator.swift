import PerceptCore

/// Runs a whole graph with `ReferenceOperators`, node by node in the file's order, on NCHW
/// tensors: the oracle the compiled `ONNXSession` is tested against, independent of its layout,
/// fusions and kernels.
struct ReferenceEvaluator {
    let model: ONNXModel

    /// The float constants: initialisers and `Constant` nodes' values. Integer tensors are in `integers`.
    private(set) var constants: [String: Tensor] = [:]
    private(set) var integers: [String: [Int]] = [:]

    init(model: ONNXModel) {
        self.model = model
        for (name, tensor) in model.initializers { record(name, tensor) }
    }

    private mutating func record(_ name: String, _ tensor: ONNXTensor) {
        switch tensor {
        case .float32(let t): constants[name] = t
        case .int64(_, let values): integers[name] = values
        }
    }

    /// What `node` reads, from `values` and the constants.
    func inputs(of node: ONNXNode, values: [String: Tensor]) -> ReferenceOperators.Inputs {
        ReferenceOperators.Inputs(tensors: node.inputs.map { $0.isEmpty ? nil : (values[$0] ?? constants[$0]) },
                                  integers: node.inputs.map { integers[$0] })
    }

    /// Evaluates `node` when every input is a constant, recording its outputs as constants (the
    /// load-time constant folding); false when some input depends on the graph's inputs.
    mutating func fold(_ node: ONNXNode) throws -> Bool {
        if node.operatorType == "Constant" {
            guard case .tensor(let value)? = node.attributes["value"], let output = node.outputs.first else {
                throw ReferenceOperators.unsupported(node, "only a Constant with a tensor 'value' is supported")
            }
            record(output, value)
            return true
        }
        let present = node.inputs.filter { !$0.isEmpty }
        guard present.allSatisfy({ constants[$0] != nil || integers[$0] != nil }) else { return false }
        // Integer-only subgraphs (shape arithmetic) are left alone: no supported operator computes on integers.
        guard present.contains(where: { constants[$0] != nil }), let output = node.outputs.first else { return false }
        constants[output] = try ReferenceOperators.evaluate(node, inputs(of: node, values: [:]), opset: model.opsetVersion)
        return true
    }

    /// The values named `outputs` for the graph inputs `feeds` (NCHW, batch first).
    func run(_ feeds: [String: Tensor], outputs: [String]) throws -> [String: Tensor] {
        var folder = self
        var values = feeds
        for node in model.nodes {
            if try folder.fold(node) { continue }
            guard let output = node.outputs.first else { continue }
            values[output] = try ReferenceOperators.evaluate(node, folder.inputs(of: node, values: values),
                                                              opset: model.opsetVersion)
        }
        var result: [String: Tensor] = [:]
        for name in outputs {
            guard let value = values[name] ?? folder.constants[name] else {
                throw PerceptError.invalidArgument("no value named '\(name)' in the graph of \(model.path)")
            }
            result[name] = value
        }
        return result
    }
}
