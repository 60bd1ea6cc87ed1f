import Foundation
import SwiftProtobuf
import XCTest
@testable import PerceptONNX
import PerceptCore

/// Writes small graphs node by node for the runtime's tests: random weights from a seed, output
/// names made up, an image input [N, C, H, W].
struct GraphSketch {
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private var random = SeededRandom(seed: 11)
    private var counter = 0
    let inputName = "images"
    let inputShape: [Int?]
    var opset: Int64 = 17

    init(channels: Int, height: Int, width: Int) {
        inputShape = [nil, channels, height, width]
    }

    /// A random float initialiser of `shape` with values in ±`scale`, or in `range`.
    mutating func weight(_ shape: [Int], scale: Float = 0.5, range: ClosedRange<Float>? = nil) -> String {
        counter += 1
        let name = "w\(counter)"
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            let u = random.nextUnitFloat()
            if let range { return range.lowerBound + u * (range.upperBound - range.lowerBound) }
            return (u * 2 - 1) * scale
        }
        initializers.append(TinyONNXModel.floatTensor(name, shape: shape, values: values, raw: true))
        return name
    }

    /// A float scalar initialiser.
    mutating func scalar(_ value: Float) -> String {
        counter += 1
        let name = "s\(counter)"
        initializers.append(TinyONNXModel.floatTensor(name, shape: [], values: [value], raw: false))
        return name
    }

    mutating func integers(_ values: [Int64]) -> String {
        counter += 1
        let name = "i\(counter)"
        initializers.append(TinyONNXModel.int64Tensor(name, values: values))
        return name
    }

    /// Adds a node and returns its output's name.
    @discardableResult
    mutating func add(_ operatorType: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> String {
        counter += 1
        let output = "\(operatorType.lowercased())\(counter)"
        nodes.append(TinyONNXModel.node("n\(counter)", operatorType, inputs: inputs, outputs: [output], attributes: attributes))
        return output
    }

    /// A convolution with random weights (and bias) from `input` of `inChannels` channels.
    mutating func conv(_ input: String, _ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1,
                       pads: [Int64]? = nil, group: Int = 1, bias: Bool = true) -> String {
        let w = weight([outChannels, inChannels / group, kernel, kernel], scale: 1 / Float(kernel * kernel * inChannels / group).squareRoot())
        let b = bias ? [weight([outChannels], scale: 0.2)] : []
        var attributes = [TinyONNXModel.intsAttribute("kernel_shape", [Int64(kernel), Int64(kernel)]),
                          TinyONNXModel.intsAttribute("strides", [Int64(stride), Int64(stride)]),
                          TinyONNXModel.intAttribute("group", Int64(group))]
        if let pads { attributes.append(TinyONNXModel.intsAttribute("pads", pads)) }
        return add("Conv", [input, w] + b, attributes)
    }

    /// The protobuf of the model computing `output`.
    func proto(output: String, outputShape: [Int?] = [nil]) -> Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "percept-tests"
        model.opsetImport = [TinyONNXModel.opset(opset)]
        var graph = Onnx_GraphProto()
        graph.name = "sketch"
        graph.input = [TinyONNXModel.valueInfo(inputName, inputShape, batchName: "N")]
        graph.output = [TinyONNXModel.valueInfo(output, outputShape, batchName: "N")]
        graph.initializer = initializers
        graph.node = nodes
        model.graph = graph
        return model
    }

    /// The model computing `output`, read back as the importer reads a file.
    func model(output: String, outputShape: [Int?] = [nil]) throws -> ONNXModel {
        let bytes: Data = try proto(output: output, outputShape: outputShape).serializedBytes()
        return try ONNXModel(serializedBytes: bytes, path: "sketch.onnx")
    }

    static func floatAttribute(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .float
        attribute.f = value
        return attribute
    }
}

/// NCHW ↔ NHWC for the tests' comparisons.
enum Layout {
    static func channelsLast(_ x: [Float], batch: Int, channels c: Int, height h: Int, width w: Int) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        for n in 0..<batch { for ch in 0..<c { for p in 0..<(h * w) { y[(n * h * w + p) * c + ch] = x[(n * c + ch) * h * w + p] } } }
        return y
    }

    static func channelsFirst(_ x: [Float], batch: Int, channels c: Int, height h: Int, width w: Int) -> [Float] {
        var y = [Float](repeating: 0, count: x.count)
        for n in 0..<batch { for ch in 0..<c { for p in 0..<(h * w) { y[(n * c + ch) * h * w + p] = x[(n * h * w + p) * c + ch] } } }
        return y
    }
}
