import Foundation
import PerceptCore
import SwiftProtobuf

/// An ONNX model, read and checked: what its graph takes and gives, its nodes in order and its
/// constant tensors. Loading checks everything Percept's engine will need to run the graph
/// (known operators, static shapes, weights inside the file, a supported opset), so a model that
/// loads fails later only for reasons of the graph's own arithmetic.
///
/// Reading goes through swift-protobuf's types generated from ONNX's schema (`Generated/`).
public struct ONNXModel: Sendable {
    /// The operators Percept's importer maps onto its engine: what ImageNet backbones exported from
    /// PyTorch use (ResNet, MobileNetV2/V3, EfficientNet and EfficientNet-Lite).
    public static let supportedOperators: [String] = [
        "Conv", "Pad", "BatchNormalization", "Relu", "Clip", "Sigmoid", "Mul", "HardSigmoid", "HardSwish", "Add",
        "MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean", "Flatten", "Reshape", "Squeeze",
        "Unsqueeze", "Gemm", "MatMul", "Concat", "Identity", "Dropout", "Constant",
        // What Percept's own exports add around a network: normalisation, layout, class probabilities
        // and the exact GELU (airbench94).
        "Sub", "Div", "Transpose", "Softmax", "Erf",
    ]

    /// The versions of ONNX's default operator set Percept reads: from opset 7 (PyTorch's oldest
    /// exports still in use) to 21; operators' attribute and input conventions are known for these.
    public static let supportedOpsetVersions: ClosedRange<Int> = 7...21

    /// The file the model was read from.
    public var path: String
    /// The ONNX IR version the file was written with.
    public var irVersion: Int
    /// The exporter, e.g. `pytorch 2.13.0`.
    public var producer: String
    /// The version of each operator set the graph imports, by domain (`""` is ONNX's default domain).
    public var opsetVersions: [String: Int]
    /// The graph's inputs that callers feed (initialisers listed as inputs by old exporters left out).
    public var inputs: [ONNXValueInfo]
    public var outputs: [ONNXValueInfo]
    /// The nodes in the file's order, which ONNX requires to be an order of evaluation.
    public var nodes: [ONNXNode]
    /// The initialisers (weights, biases, constant shapes) by name.
    public var initializers: [String: ONNXTensor]
    /// The initialisers' names in the file's order.
    public var initializerNames: [String]
    /// The model's `metadata_props` (key → value).
    public var metadata: [String: String]

    /// The version of ONNX's default operator set.
    public var opsetVersion: Int { opsetVersions[""] ?? 0 }

    /// The operators the graph uses, each once.
    public var operatorTypes: Set<String> { Set(nodes.map(\.operatorType)) }

    /// The number of Float32 values in the initialisers (the model's parameters).
    public var parameterCount: Int {
        initializers.values.reduce(0) { $0 + ($1.floatTensor?.count ?? 0) }
    }

    /// Reads and checks the ONNX model at `path`.
    ///
    /// - Throws: `PerceptError` naming the file: `.io` when it cannot be read; `.corrupt` when it is
    ///   truncated, damaged or not ONNX; `.unsupported` for an operator outside `supportedOperators`,
    ///   a symbolic dimension other than an input's batch dimension, weights in an external file, or
    ///   an opset outside `supportedOpsetVersions`.
    public static func load(_ path: String) throws -> ONNXModel {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw PerceptError.io(path, "cannot read the ONNX model: \(error.localizedDescription)")
        }
        return try ONNXModel(serializedBytes: data, path: path)
    }
}

// In an extension, so the struct keeps its memberwise initialiser for the graph reader.
extension ONNXModel {
    /// Reads and checks a model from its serialised bytes; `path` names it in errors.
    public init(serializedBytes data: Data, path: String) throws {
        guard !data.isEmpty else {
            throw PerceptError.corrupt(path, "the file is empty, not an ONNX model")
        }
        let proto: Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.discardUnknownFields = true
            proto = try Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw PerceptError.corrupt(path, "not an ONNX model, or a truncated one: its bytes are not a valid "
                + "ONNX protobuf (\(error)); export it again or check the download is complete")
        }
        self = try ONNXGraphReader(path: path).model(from: proto)
    }
}

/// The value a classifier backbone's last layer reads: the image's feature vector for transfer learning.
public struct ONNXFeatureVector: Sendable, Equatable, Codable {
    /// The value's name in the graph.
    public var name: String
    /// Its length per image.
    public var width: Int
    /// The `Gemm` or `MatMul` node that reads it.
    public var classifierNode: String
}

extension ONNXModel {
    /// The input of the last `Gemm` or `MatMul` whose weight is an initialiser (a backbone's final
    /// classifier), with its width read from that weight; nil when the graph ends otherwise.
    public var classifierInput: ONNXFeatureVector? {
        guard let node = nodes.last(where: { $0.operatorType == "Gemm" || $0.operatorType == "MatMul" }),
              node.inputs.count >= 2, node.attributes["transA"] != .int(1),
              let weight = initializers[node.inputs[1]]?.floatTensor, weight.rank == 2 else { return nil }
        // Gemm with transB = 1 (PyTorch's Linear) stores the weight as outputs × inputs.
        let width = node.attributes["transB"] == .int(1) ? weight.shape[1] : weight.shape[0]
        return ONNXFeatureVector(name: node.inputs[0], width: width, classifierNode: node.name)
    }
}
