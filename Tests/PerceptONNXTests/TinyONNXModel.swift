import Foundation
import SwiftProtobuf
import XCTest
@testable import PerceptONNX
import PerceptCore

/// Builds small ONNX models with the generated protobuf types, the way an exporter writes them,
/// so each load-time check can be tried on a file that breaks exactly one rule.
enum TinyONNXModel {
    /// images [N, 3, 4, 4] → Conv 1×1 (2 filters, bias) → Relu → features [N, 2, 4, 4], opset 17.
    static func convolutionRelu() -> Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "percept-tests"
        model.opsetImport = [opset(17)]
        var graph = Onnx_GraphProto()
        graph.name = "tiny"
        graph.input = [valueInfo("images", [nil, 3, 4, 4], batchName: "batch")]
        graph.output = [valueInfo("features", [nil, 2, 4, 4], batchName: "batch")]
        graph.initializer = [
            floatTensor("conv.weight", shape: [2, 3, 1, 1], values: (0..<6).map { Float($0) / 10 }, raw: true),
            floatTensor("conv.bias", shape: [2], values: [0.5, -0.5], raw: false),
        ]
        graph.node = [
            node("conv", "Conv", inputs: ["images", "conv.weight", "conv.bias"], outputs: ["conv_out"],
                 attributes: [intsAttribute("strides", [1, 1]), intAttribute("group", 1)]),
            node("relu", "Relu", inputs: ["conv_out"], outputs: ["features"]),
        ]
        model.graph = graph
        return model
    }

    static func opset(_ version: Int64, domain: String = "") -> Onnx_OperatorSetIdProto {
        var entry = Onnx_OperatorSetIdProto()
        entry.domain = domain
        entry.version = version
        return entry
    }

    /// A float tensor value; nil dimensions are symbolic, named `batchName` (or left without a size).
    static func valueInfo(_ name: String, _ shape: [Int?], batchName: String? = nil) -> Onnx_ValueInfoProto {
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensorType.shape.dim = shape.map { size in
            var dimension = Onnx_TensorShapeProto.Dimension()
            if let size { dimension.dimValue = Int64(size) } else if let batchName { dimension.dimParam = batchName }
            return dimension
        }
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType = tensorType
        return info
    }

    /// Float32 values stored the two ways ONNX allows: little-endian `raw_data` or `float_data`.
    static func floatTensor(_ name: String, shape: [Int], values: [Float], raw: Bool) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = shape.map { Int64($0) }
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        if raw {
            tensor.rawData = Data(values.flatMap { value in
                withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }
            })
        } else {
            tensor.floatData = values
        }
        return tensor
    }

    static func int64Tensor(_ name: String, values: [Int64]) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = [Int64(values.count)]
        tensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        tensor.int64Data = values
        return tensor
    }

    static func node(_ name: String, _ operatorType: String, inputs: [String], outputs: [String],
                     attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.name = name
        node.opType = operatorType
        node.input = inputs
        node.output = outputs
        node.attribute = attributes
        return node
    }

    static func intAttribute(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .int
        attribute.i = value
        return attribute
    }

    static func intsAttribute(_ name: String, _ values: [Int64]) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .ints
        attribute.ints = values
        return attribute
    }

    /// Writes `model` to a fresh temporary file and returns its path.
    static func write(_ model: Onnx_ModelProto, name: String = "tiny") throws -> String {
        let bytes: Data = try model.serializedBytes()
        return try write(bytes, name: name)
    }

    static func write(_ bytes: Data, name: String = "tiny") throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("percept-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("\(name).onnx").path
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Loads `path` expecting an error of `kind` that names the file and contains every one of `phrases`.
    static func assertLoadFails(_ path: String, kind: PerceptError.Kind, mentioning phrases: [String],
                                file: StaticString = #filePath, line: UInt = #line) {
        do {
            let model = try ONNXModel.load(path)
            XCTFail("loaded \(model.nodes.count) nodes; expected a \(kind) error", file: file, line: line)
        } catch let error as PerceptError {
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
            XCTAssertEqual(error.path, path, "\(error)", file: file, line: line)
            for phrase in phrases {
                XCTAssertTrue(error.description.contains(phrase), "'\(phrase)' missing from: \(error)",
                              file: file, line: line)
            }
        } catch {
            XCTFail("not a PerceptError: \(error)", file: file, line: line)
        }
    }
}
