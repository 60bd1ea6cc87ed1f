import Foundation
import PerceptCore
import SwiftProtobuf

/// Writes an ONNX model through swift-protobuf's generated types: constant tensors (initialisers),
/// nodes with their attributes, the graph's inputs and outputs with static shapes (a symbolic batch
/// dimension "N"), `metadata_props`, then the file, written atomically.
///
/// Every operator a builder emits is one `ONNXModel.load` accepts, and the opset is one it reads,
/// so an exported file always loads back into Percept.
///
/// Usage:
/// ```swift
/// var graph = try ONNXGraphBuilder(name: "linear")
/// graph.addInput("images", shape: [nil, 3, 32, 32])
/// let rows = try graph.addFlatten("images", name: "flatten")
/// let scores = try graph.addFullyConnected(rows, weight: w, inputs: 3072, units: 10, transposed: true,
///                                          bias: b, name: "scores")
/// try graph.addOutput(try graph.addSoftmax(scores), as: "probabilities", shape: [nil, 10])
/// try graph.write(to: "model.onnx")
/// ```
public struct ONNXGraphBuilder {
    /// The opset Percept writes unless told otherwise (onnxruntime and PyTorch's exporter both read it).
    public static let defaultOpsetVersion = 17

    var graph = Onnx_GraphProto()
    private var metadata: [(key: String, value: String)] = []
    /// Every value name in the graph (inputs, initialisers, node outputs), to keep new names unique.
    private var usedNames: Set<String> = []
    /// Every node name (a namespace of its own in ONNX).
    private var nodeNames: Set<String> = []
    private var nodeCount = 0
    /// The version of ONNX's default operator set the graph is written for.
    public let opsetVersion: Int

    /// An empty graph called `name` for opset `opsetVersion`, which must be one Percept reads.
    public init(name: String, opsetVersion: Int = ONNXGraphBuilder.defaultOpsetVersion) throws {
        let readable = ONNXModel.supportedOpsetVersions
        // Opset 13 changed Softmax (a single axis) and Squeeze/Unsqueeze (axes as inputs): write
        // the modern conventions only.
        guard readable.contains(opsetVersion), opsetVersion >= 13 else {
            throw PerceptError.invalidArgument("cannot export with opset \(opsetVersion): Percept writes opsets "
                + "13...\(readable.upperBound) (default \(Self.defaultOpsetVersion))")
        }
        self.opsetVersion = opsetVersion
        graph.name = name
    }

    /// The IR version that goes with the opset: 8 up to opset 18 (ONNX 1.13), 9 for 19–20, 10 for 21
    /// (the ONNX checker refuses an opset newer than its IR).
    var irVersion: Int64 { opsetVersion >= 21 ? 10 : opsetVersion >= 19 ? 9 : 8 }

    /// A new value name: `base`, or `base_2`, `base_3`, … when that name is taken.
    public mutating func uniqueName(_ base: String) -> String {
        Self.claim(base, in: &usedNames)
    }

    /// A new node name, unique the same way.
    mutating func uniqueNodeName(_ base: String) -> String {
        Self.claim(base, in: &nodeNames)
    }

    private static func claim(_ base: String, in names: inout Set<String>) -> String {
        var name = base.isEmpty ? "value" : base
        var suffix = 2
        while names.contains(name) {
            name = "\(base)_\(suffix)"
            suffix += 1
        }
        names.insert(name)
        return name
    }

    /// Adds a Float32 initialiser (row-major `values` of `shape`; `[]` is a scalar) and returns its name.
    @discardableResult
    public mutating func addInitializer(_ name: String, shape: [Int], values: [Float]) -> String {
        precondition(shape.reduce(1, *) == values.count, "initializer \(name): shape \(shape) vs \(values.count) values")
        var tensor = Onnx_TensorProto()
        tensor.name = uniqueName(name)
        tensor.dims = shape.map { Int64($0) }
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.rawData = RawTensorData.bytes(values)
        graph.initializer.append(tensor)
        return tensor.name
    }

    /// Adds a node computing `operatorType` of `inputs` and returns its (one) output's name, made
    /// unique from `output` (default: the node's name).
    ///
    /// - Throws: `.unsupported` for an operator `ONNXModel.load` would refuse.
    @discardableResult
    public mutating func addNode(_ operatorType: String, inputs: [String], attributes: [String: ONNXAttribute] = [:],
                                 name: String? = nil, output: String? = nil) throws -> String {
        guard ONNXModel.supportedOperators.contains(operatorType) else {
            throw PerceptError.unsupported(nil, "cannot export operator '\(operatorType)': Percept reads only "
                + ONNXModel.supportedOperators.joined(separator: ", "))
        }
        nodeCount += 1
        var node = Onnx_NodeProto()
        node.opType = operatorType
        node.name = Self.claim(name ?? "\(operatorType.lowercased())_\(nodeCount)", in: &nodeNames)
        node.input = inputs
        node.output = [output.map { uniqueName($0) } ?? uniqueName("\(node.name)_out")]
        // Sorted, so the same model always writes the same bytes.
        node.attribute = attributes.sorted { $0.key < $1.key }.map { Self.attributeProto(name: $0.key, $0.value) }
        graph.node.append(node)
        return node.output[0]
    }

    /// Declares a graph input of Float32 values; nil dimensions are the symbolic batch "N".
    public mutating func addInput(_ name: String, shape: [Int?]) {
        usedNames.insert(name)
        graph.input.append(Self.valueInfo(name, shape: shape))
    }

    /// Declares `value` a graph output named `name`: the node computing it writes `name` instead
    /// (an `Identity` node copies a graph input or initialiser).
    public mutating func addOutput(_ value: String, as name: String, shape: [Int?]) throws {
        if value != name {
            guard !usedNames.contains(name) else {
                throw PerceptError.invalidArgument("cannot name a graph output '\(name)': the graph has a value of that name")
            }
            if let producer = graph.node.lastIndex(where: { $0.output.contains(value) }) {
                usedNames.insert(name)
                graph.node[producer].output = graph.node[producer].output.map { $0 == value ? name : $0 }
                for index in graph.node.indices.dropFirst(producer + 1) {
                    graph.node[index].input = graph.node[index].input.map { $0 == value ? name : $0 }
                }
            } else {
                try addNode("Identity", inputs: [value], name: name, output: name)
            }
        }
        graph.output.append(Self.valueInfo(name, shape: shape))
    }

    /// Sets one `metadata_props` entry (replacing an earlier value of `key`).
    public mutating func setMetadata(_ key: String, _ value: String) {
        metadata.removeAll { $0.key == key }
        metadata.append((key, value))
    }

    /// The graph's nodes' operators, in order (for tests and summaries).
    public var operatorTypes: [String] { graph.node.map(\.opType) }

    /// The model as protobuf: the builder's opset and its IR version, producer "percept <version>".
    var modelProto: Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = irVersion
        model.producerName = "percept"
        model.producerVersion = PerceptVersion.current
        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = Int64(opsetVersion)
        model.opsetImport = [opset]
        model.graph = graph
        model.metadataProps = metadata.map { entry in
            var property = Onnx_StringStringEntryProto()
            property.key = entry.key
            property.value = entry.value
            return property
        }
        return model
    }

    /// The model's bytes, as an `.onnx` file holds them.
    public func serializedData() throws -> Data {
        do {
            return try modelProto.serializedData()
        } catch {
            throw PerceptError.invalidData("cannot encode the ONNX model: \(error)")
        }
    }

    /// Writes the model to `path` atomically (a temporary file renamed over it).
    public func write(to path: String) throws {
        try AtomicFile.write(try serializedData(), to: path)
    }

    static func valueInfo(_ name: String, shape: [Int?]) -> Onnx_ValueInfoProto {
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensorType.shape.dim = shape.map { size in
            var dimension = Onnx_TensorShapeProto.Dimension()
            if let size { dimension.dimValue = Int64(size) } else { dimension.dimParam = "N" }
            return dimension
        }
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType = tensorType
        return info
    }

    static func attributeProto(name: String, _ value: ONNXAttribute) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        switch value {
        case .int(let i):
            attribute.type = .int
            attribute.i = Int64(i)
        case .float(let f):
            attribute.type = .float
            attribute.f = f
        case .ints(let values):
            attribute.type = .ints
            attribute.ints = values.map { Int64($0) }
        case .floats(let values):
            attribute.type = .floats
            attribute.floats = values
        case .string(let text):
            attribute.type = .string
            attribute.s = Data(text.utf8)
        case .tensor(let tensor):
            attribute.type = .tensor
            attribute.t = tensorProto(tensor)
        }
        return attribute
    }

    private static func tensorProto(_ tensor: ONNXTensor) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.dims = tensor.shape.map { Int64($0) }
        switch tensor {
        case .float32(let values):
            proto.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            proto.floatData = values.scalars
        case .int64(_, let values):
            proto.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
            proto.int64Data = values.map { Int64($0) }
        }
        return proto
    }
}
