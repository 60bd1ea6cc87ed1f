import Foundation
import SwiftProtobuf
import PerceptCore
@testable import PerceptONNX

/// Tiny ONNX graphs for the backbone store's tests, written the way an exporter writes them.
enum TinyBackbone {
    /// images [N, 3, 8, 8] → GlobalAveragePool → Flatten → Gemm (4 classes, transB) → logits:
    /// an "ImageNet classifier" whose features are the three channel means.
    static func classifier() -> Onnx_ModelProto {
        model(input: ONNXGraphBuilder.valueInfo("images", shape: [nil, 3, 8, 8]), output: ONNXGraphBuilder.valueInfo("logits", shape: [nil, 4]), nodes: [
            node("pool", "GlobalAveragePool", ["images"], ["pooled"]),
            node("flatten", "Flatten", ["pooled"], ["features"]),
            node("fc", "Gemm", ["features", "fc.weight", "fc.bias"], ["logits"], transB: true),
        ], initializers: [floatTensor("fc.weight", [4, 3], (0..<12).map { Float($0) / 12 }),
                          floatTensor("fc.bias", [4], [0, 0.1, 0.2, 0.3])])
    }

    /// images [N, 3, 16, 16] → a stem convolution, an inverted-residual-like block (depthwise 3×3 +
    /// ReLU, 1×1 projection, skip), a 1×1 head + ReLU, pooling, Gemm to 4 classes: small enough to
    /// fine-tune in a test, with the block structure `ONNXFineTuner` cuts at.
    static func trainable(seed: UInt64 = 3) -> Onnx_ModelProto {
        var random = SeededRandom(seed: seed)
        func weights(_ shape: [Int], scale: Float) -> [Float] {
            (0..<shape.reduce(1, *)).map { _ in (random.nextUnitFloat() * 2 - 1) * scale }
        }
        func conv(_ name: String, _ input: String, _ output: String, _ shape: [Int], pads: Int, group: Int) -> Onnx_NodeProto {
            var node = node(name, "Conv", [input, "\(name).weight", "\(name).bias"], [output])
            node.attribute = [ONNXGraphBuilder.attributeProto(name: "kernel_shape", .ints([shape[2], shape[3]])),
                              ONNXGraphBuilder.attributeProto(name: "pads", .ints([pads, pads, pads, pads])),
                              ONNXGraphBuilder.attributeProto(name: "group", .int(group))]
            return node
        }
        let convolutions: [(String, [Int])] = [("stem", [8, 3, 3, 3]), ("dw", [8, 1, 3, 3]), ("project", [8, 8, 1, 1]),
                                               ("head", [16, 8, 1, 1])]
        var initializers: [Onnx_TensorProto] = []
        for (name, shape) in convolutions {
            initializers.append(floatTensor("\(name).weight", shape, weights(shape, scale: 1 / Float(shape[1] * shape[2] * shape[3]).squareRoot())))
            initializers.append(floatTensor("\(name).bias", [shape[0]], weights([shape[0]], scale: 0.1)))
        }
        initializers += [floatTensor("fc.weight", [4, 16], weights([4, 16], scale: 0.25)), floatTensor("fc.bias", [4], [0, 0, 0, 0])]
        return model(input: ONNXGraphBuilder.valueInfo("images", shape: [nil, 3, 16, 16]), output: ONNXGraphBuilder.valueInfo("logits", shape: [nil, 4]), nodes: [
            conv("stem", "images", "stem_out", [8, 3, 3, 3], pads: 1, group: 1),
            conv("dw", "stem_out", "dw_out", [8, 1, 3, 3], pads: 1, group: 8),
            node("dw_relu", "Relu", ["dw_out"], ["dw_act"]),
            conv("project", "dw_act", "project_out", [8, 8, 1, 1], pads: 0, group: 1),
            node("skip", "Add", ["project_out", "stem_out"], ["block_out"]),
            conv("head", "block_out", "head_out", [16, 8, 1, 1], pads: 0, group: 1),
            node("head_relu", "Relu", ["head_out"], ["head_act"]),
            node("pool", "GlobalAveragePool", ["head_act"], ["pooled"]),
            node("flatten", "Flatten", ["pooled"], ["features"]),
            node("fc", "Gemm", ["features", "fc.weight", "fc.bias"], ["logits"], transB: true),
        ], initializers: initializers)
    }

    /// x [N, 10] → Gemm → y [N, 2]: a graph whose input is not an image.
    static func tabular() -> Onnx_ModelProto {
        model(input: ONNXGraphBuilder.valueInfo("x", shape: [nil, 10]), output: ONNXGraphBuilder.valueInfo("y", shape: [nil, 2]), nodes: [
            node("fc", "Gemm", ["x", "fc.weight"], ["y"], transB: true),
        ], initializers: [floatTensor("fc.weight", [2, 10], [Float](repeating: 0.1, count: 20))])
    }

    /// Writes `model` into a fresh temporary folder as `name`.onnx.
    static func write(_ model: Onnx_ModelProto, name: String = "tiny") throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("percept-backbone-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("\(name).onnx").path
        let bytes: Data = try model.serializedBytes()
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    private static func model(input: Onnx_ValueInfoProto, output: Onnx_ValueInfoProto, nodes: [Onnx_NodeProto],
                              initializers: [Onnx_TensorProto]) -> Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "percept-tests"
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 17
        model.opsetImport = [opset]
        var graph = Onnx_GraphProto()
        graph.name = "tiny"
        graph.input = [input]
        graph.output = [output]
        graph.node = nodes
        graph.initializer = initializers
        model.graph = graph
        return model
    }

    private static func node(_ name: String, _ operatorType: String, _ inputs: [String], _ outputs: [String],
                             transB: Bool = false) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.name = name
        node.opType = operatorType
        node.input = inputs
        node.output = outputs
        if transB { node.attribute = [ONNXGraphBuilder.attributeProto(name: "transB", .int(1))] }
        return node
    }

    private static func floatTensor(_ name: String, _ shape: [Int], _ values: [Float]) -> Onnx_TensorProto {
        ONNXTensor.proto(name: name, shape: shape, values: values)
    }
}
