import Foundation
import PerceptCore

/// Turns a decoded `ModelProto` into an `ONNXModel`, checking on the way everything a damaged,
/// truncated or out-of-reach file could get wrong; each problem a `PerceptError` naming the file.
struct ONNXGraphReader {
    let path: String

    func model(from proto: Onnx_ModelProto) throws -> ONNXModel {
        // Random bytes can decode as a protobuf message; a real model has an IR version and a graph.
        guard proto.irVersion > 0, proto.hasGraph else {
            throw PerceptError.corrupt(path, "not an ONNX model (no IR version or no graph); "
                + "export it again or check the download is complete")
        }
        let opsetVersions = try readOpsetVersions(proto.opsetImport)
        let graph = proto.graph
        var initializers: [String: ONNXTensor] = [:]
        var initializerNames: [String] = []
        for tensor in graph.initializer {
            let role = "initializer '\(tensor.name)'"
            guard !tensor.name.isEmpty, initializers[tensor.name] == nil else {
                throw PerceptError.corrupt(path, "an initializer is unnamed or named twice ('\(tensor.name)')")
            }
            initializers[tensor.name] = try ONNXTensor(tensor, role: role, path: path)
            initializerNames.append(tensor.name)
        }
        if let sparse = graph.sparseInitializer.first {
            throw PerceptError.unsupported(path, "sparse initializer '\(sparse.values.name)': Percept reads only "
                + "dense tensors")
        }
        // Exporters before IR 4 list initialisers among the inputs too; those are weights, not inputs.
        let inputs = try graph.input.filter { initializers[$0.name] == nil }
            .map { try readValueInfo($0, role: "input", symbolicBatchOnly: true) }
        let outputs = try graph.output.map { try readValueInfo($0, role: "output", symbolicBatchOnly: false) }
        guard !inputs.isEmpty, !outputs.isEmpty else {
            throw PerceptError.corrupt(path, "the graph has no \(inputs.isEmpty ? "inputs" : "outputs"); "
                + "the file may be truncated")
        }
        let nodes = try readNodes(graph.node, available: Set(inputs.map(\.name)).union(initializerNames))
        let produced = Set(nodes.flatMap(\.outputs)).union(inputs.map(\.name)).union(initializerNames)
        if let missing = outputs.first(where: { !produced.contains($0.name) }) {
            throw PerceptError.corrupt(path, "graph output '\(missing.name)' is produced by no node; "
                + "the file may be truncated or damaged")
        }
        var metadata: [String: String] = [:]
        for entry in proto.metadataProps { metadata[entry.key] = entry.value }
        return ONNXModel(path: path, irVersion: Int(proto.irVersion),
                         producer: [proto.producerName, proto.producerVersion].filter { !$0.isEmpty }
                             .joined(separator: " "),
                         opsetVersions: opsetVersions, inputs: inputs, outputs: outputs, nodes: nodes,
                         initializers: initializers, initializerNames: initializerNames, metadata: metadata)
    }

    /// The opset version per domain; the default domain's must be one Percept knows.
    private func readOpsetVersions(_ imports: [Onnx_OperatorSetIdProto]) throws -> [String: Int] {
        var versions: [String: Int] = [:]
        for entry in imports {
            // "ai.onnx" is the default domain's long name.
            versions[entry.domain == "ai.onnx" ? "" : entry.domain] = Int(entry.version)
        }
        let supported = ONNXModel.supportedOpsetVersions
        guard let version = versions[""] else {
            throw PerceptError.corrupt(path, "the model imports no version of ONNX's default operator set "
                + "(opset_import); the file may be truncated")
        }
        guard supported.contains(version) else {
            throw PerceptError.unsupported(path, "the model uses opset \(version) of ONNX's default domain; Percept "
                + "reads opsets \(supported.lowerBound)...\(supported.upperBound): export it again with an opset "
                + "in that range (torch.onnx.export(..., opset_version=17))")
        }
        return versions
    }

    /// A graph input or output. Inputs must have every dimension fixed but the batch (the first),
    /// because the engine plans each layer's shape at load.
    private func readValueInfo(_ info: Onnx_ValueInfoProto, role: String, symbolicBatchOnly: Bool) throws -> ONNXValueInfo {
        let described = "\(role) '\(info.name)'"
        guard case .tensorType(let tensorType)? = info.type.value else {
            throw PerceptError.unsupported(path, "\(described) is not a tensor; Percept reads graphs of tensors")
        }
        let elementType = Onnx_TensorProto.DataType(rawValue: Int(tensorType.elemType))
            .map { "\($0)".uppercased() } ?? "number \(tensorType.elemType)"
        guard tensorType.hasShape else {
            if symbolicBatchOnly {
                throw PerceptError.unsupported(path, "\(described) has no shape; Percept needs static input shapes: "
                    + "export with a fixed input size (torch.onnx.export with a dummy input of that size)")
            }
            return ONNXValueInfo(name: info.name, elementType: elementType, shape: [])
        }
        var shape: [Int?] = []
        for (axis, dimension) in tensorType.shape.dim.enumerated() {
            if case .dimValue(let size)? = dimension.value, size > 0 {
                shape.append(Int(size))
                continue
            }
            guard !symbolicBatchOnly || axis == 0 else {
                let name: String
                switch dimension.value {
                case .dimParam(let parameter)? where !parameter.isEmpty: name = "'\(parameter)'"
                case .dimValue(let size)?: name = "size \(size)"
                default: name = "without a size"
                }
                throw PerceptError.unsupported(path, "\(described) has a dynamic dimension \(axis) (\(name)); "
                    + "Percept needs static shapes except for the batch dimension (dimension 0): export with a "
                    + "fixed input size (no dynamic_axes other than the batch)")
            }
            shape.append(nil)
        }
        return ONNXValueInfo(name: info.name, elementType: elementType, shape: shape)
    }

    /// The nodes in order, each using a supported operator and reading only values that exist
    /// before it (graph inputs, initialisers, earlier nodes' outputs).
    private func readNodes(_ protos: [Onnx_NodeProto], available: Set<String>) throws -> [ONNXNode] {
        let supported = Set(ONNXModel.supportedOperators)
        var available = available
        var nodes: [ONNXNode] = []
        nodes.reserveCapacity(protos.count)
        for (index, proto) in protos.enumerated() {
            var node = ONNXNode(name: proto.name, operatorType: proto.opType, inputs: proto.input, outputs: proto.output)
            let label = node.label(index: index)
            let isDefaultDomain = proto.domain.isEmpty || proto.domain == "ai.onnx"
            guard isDefaultDomain, supported.contains(proto.opType) else {
                let domain = isDefaultDomain ? "" : " of domain '\(proto.domain)'"
                throw PerceptError.unsupported(path, "\(label) uses operator '\(proto.opType)'\(domain), which Percept "
                    + "does not support; supported operators: "
                    + ONNXModel.supportedOperators.joined(separator: ", "))
            }
            for attribute in proto.attribute {
                node.attributes[attribute.name] = try ONNXAttribute(
                    attribute, role: "attribute '\(attribute.name)' of \(label)", path: path)
            }
            if let missing = node.inputs.first(where: { !$0.isEmpty && !available.contains($0) }) {
                throw PerceptError.corrupt(path, "\(label) reads '\(missing)', which no graph input, initializer or "
                    + "earlier node provides; the graph is out of order or the file is damaged")
            }
            available.formUnion(node.outputs)
            nodes.append(node)
        }
        return nodes
    }
}
