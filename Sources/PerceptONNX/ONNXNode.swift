import Foundation
import PerceptCore

/// One operator call in an ONNX graph: it reads the named values `inputs` and writes `outputs`.
/// An empty input name is an optional input left out (ONNX's convention).
public struct ONNXNode: Sendable, Equatable {
    public var name: String
    /// The operator, e.g. `Conv`, `Clip`, `Gemm`.
    public var operatorType: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: ONNXAttribute]

    public init(name: String, operatorType: String, inputs: [String], outputs: [String],
                attributes: [String: ONNXAttribute] = [:]) {
        self.name = name
        self.operatorType = operatorType
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }
}

/// An operator's attribute: the kinds the supported operators use (`group`, `strides`, `alpha`,
/// `mode`, a `Constant`'s `value`).
public enum ONNXAttribute: Sendable, Equatable {
    case int(Int)
    case float(Float)
    case ints([Int])
    case floats([Float])
    case string(String)
    case tensor(ONNXTensor)
}

/// A graph input or output: its name, element type and shape.
public struct ONNXValueInfo: Sendable, Equatable, Codable, CustomStringConvertible {
    public var name: String
    /// ONNX's name for the element type, e.g. `FLOAT`.
    public var elementType: String
    /// The dimensions; nil where the file leaves one symbolic (`dim_param`), which load allows only
    /// for the batch dimension (the first) of an input.
    public var shape: [Int?]

    public init(name: String, elementType: String, shape: [Int?]) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
    }

    /// `images: FLOAT [N, 3, 224, 224]`, with `N` for a symbolic dimension.
    public var description: String {
        "\(name): \(elementType) [" + shape.map { $0.map(String.init) ?? "N" }.joined(separator: ", ") + "]"
    }
}

extension ONNXNode {
    /// The node as messages name it: `'stem_conv' (node 3, Conv)`.
    func label(index: Int) -> String {
        (name.isEmpty ? "unnamed node" : "node '\(name)'") + " (#\(index), \(operatorType))"
    }
}

extension ONNXAttribute {
    /// Reads an `AttributeProto`. Graphs, sparse tensors, type protos and string lists are left out:
    /// no operator Percept supports takes them.
    init(_ proto: Onnx_AttributeProto, role: String, path: String) throws {
        switch proto.type {
        case .int: self = .int(Int(proto.i))
        case .float: self = .float(proto.f)
        case .ints: self = .ints(proto.ints.map { Int($0) })
        case .floats: self = .floats(proto.floats)
        case .string:
            guard let text = String(bytes: proto.s, encoding: .utf8) else {
                throw PerceptError.corrupt(path, "\(role) is a string attribute that is not UTF-8")
            }
            self = .string(text)
        case .tensor: self = .tensor(try ONNXTensor(proto.t, role: role, path: path))
        default:
            throw PerceptError.unsupported(path, "\(role) has attribute type \("\(proto.type)".uppercased()), "
                + "which Percept does not read (it reads INT, FLOAT, INTS, FLOATS, STRING and TENSOR)")
        }
    }
}
