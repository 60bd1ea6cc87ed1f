import Foundation
import XCTest
@testable import PerceptONNX
import PerceptCore
import TestSupport

/// A backbone cut at its feature vector with a new head (how a transfer model exports): the old
/// classifier is pruned, Percept's `images` input is normalised as the backbone expects, and the
/// result computes normalise → backbone features → head → softmax.
final class ONNXTransferGraphTests: XCTestCase {
    private let convWeight: [Float] = (0..<6).map { Float($0) / 10 - 0.2 }, convBias: [Float] = [0.5, -0.5]
    private let pixelScale: [Float] = [1 / 255, 2 / 255, 1 / 510], pixelShift: [Float] = [-0.5, -1, 0.25]
    private let headWeight: [Float] = [1, -1, 0.5, 2, -0.25, 0.75], headBias: [Float] = [0.1, 0, -0.1]

    /// input [N, 3, 4, 4] → Conv 1×1 (2 filters) → Relu → GlobalAveragePool → Flatten = features [N, 2]
    /// → Gemm (its old 5-class classifier) → logits.
    private func backbone() throws -> String {
        typealias T = TinyONNXModel
        var model = Onnx_ModelProto()
        model.irVersion = 7
        model.producerName = "pytorch"
        model.opsetImport = [T.opset(13)]
        var graph = Onnx_GraphProto()
        graph.name = "backbone"
        graph.input = [T.valueInfo("input", [nil, 3, 4, 4], batchName: "batch")]
        graph.output = [T.valueInfo("logits", [nil, 5], batchName: "batch")]
        graph.initializer = [
            T.floatTensor("conv.weight", shape: [2, 3, 1, 1], values: convWeight, raw: true),
            T.floatTensor("conv.bias", shape: [2], values: convBias, raw: false),
            T.floatTensor("fc.weight", shape: [5, 2], values: (0..<10).map { Float($0) }, raw: true),
            T.floatTensor("fc.bias", shape: [5], values: [0, 0, 0, 0, 0], raw: true),
        ]
        graph.node = [
            T.node("conv", "Conv", inputs: ["input", "conv.weight", "conv.bias"], outputs: ["conv_out"]),
            T.node("relu", "Relu", inputs: ["conv_out"], outputs: ["relu_out"]),
            T.node("pool", "GlobalAveragePool", inputs: ["relu_out"], outputs: ["pooled"]),
            T.node("flatten", "Flatten", inputs: ["pooled"], outputs: ["features"], attributes: [T.intAttribute("axis", 1)]),
            T.node("fc", "Gemm", inputs: ["features", "fc.weight", "fc.bias"], outputs: ["logits"],
                   attributes: [T.intAttribute("transB", 1)]),
        ]
        model.graph = graph
        return try T.write(model, name: "backbone")
    }

    private func transferModel() throws -> (path: String, model: ONNXModel) {
        let backbonePath = try backbone()
        let features = try XCTUnwrap(try ONNXModel.load(backbonePath).classifierInput)
        XCTAssertEqual(features.name, "features")
        var graph = try ONNXTransferGraph.backbone(contentsOf: backbonePath, upTo: features.name, pixelScale: pixelScale,
                                                   pixelShift: pixelShift)
        try graph.addSoftmaxHead(weight: headWeight, bias: headBias)
        graph.builder.setMetadata("percept.labels", #"["a","b","c"]"#)
        let path = backbonePath.replacingOccurrences(of: "backbone.onnx", with: "transfer.onnx")
        try graph.builder.write(to: path)
        return (path, try ONNXModel.load(path))
    }

    func testTheOldClassifierIsPrunedAndTheHeadReadsTheFeatures() throws {
        let (_, model) = try transferModel()
        XCTAssertEqual(model.inputs.map(\.description), ["images: FLOAT [N, 3, 4, 4]"])
        XCTAssertEqual(model.outputs.map(\.description), ["probabilities: FLOAT [N, 3]"])
        XCTAssertEqual(model.nodes.map(\.operatorType),
                       ["Mul", "Add", "Conv", "Relu", "GlobalAveragePool", "Flatten", "Flatten", "Gemm", "Softmax"])
        XCTAssertFalse(model.initializerNames.contains("fc.weight"), "the old classifier's weights are gone")
        XCTAssertFalse(model.initializerNames.contains("fc.bias"))
        XCTAssertEqual(model.initializers["conv.weight"]?.floatTensor?.scalars, convWeight, "the backbone's weights stay")
        XCTAssertEqual(model.nodes[2].inputs.first, model.nodes[1].outputs.first, "the backbone reads the normalised images")
        XCTAssertEqual(model.opsetVersion, 13, "the backbone's opset is kept")
        XCTAssertEqual(model.metadata["percept.labels"], #"["a","b","c"]"#)
        XCTAssertEqual(model.classifierInput?.width, 2)
    }

    func testOnnxruntimeComputesNormalisationFeaturesAndHead() throws {
        let (path, _) = try transferModel()
        let n = 2, pixels = 16
        let images: [Float] = (0..<(n * 3 * pixels)).map { Float(($0 * 37) % 256) }
        var expected: [Float] = []
        for item in 0..<n {
            var features = [Float](repeating: 0, count: 2)
            for position in 0..<pixels {
                let x = (0..<3).map { c in images[(item * 3 + c) * pixels + position] * pixelScale[c] + pixelShift[c] }
                for o in 0..<2 {
                    let y = (0..<3).reduce(convBias[o]) { $0 + convWeight[o * 3 + $1] * x[$1] }
                    features[o] += max(y, 0) / Float(pixels)
                }
            }
            let scores = (0..<3).map { k in headBias[k] + headWeight[k * 2] * features[0] + headWeight[k * 2 + 1] * features[1] }
            let exponentials = scores.map { exp($0 - scores.max()!) }
            expected += exponentials.map { $0 / exponentials.reduce(0, +) }
        }
        let output = try ONNXRuntimeOracle.run(model: path, images: images, shape: [n, 3, 4, 4])
        assertClose(output, expected, rtol: 1e-4, atol: 1e-6)
    }

    func testCuttingAtAValueTheBackboneLacksNamesTheFileAndTheFeatureVector() throws {
        let path = try backbone()
        XCTAssertThrowsError(try ONNXTransferGraph.backbone(contentsOf: path, upTo: "pool5", pixelScale: pixelScale,
                                                            pixelShift: pixelShift)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(path) && text.contains("'pool5'") && text.contains("features"), text)
        }
        XCTAssertThrowsError(try ONNXTransferGraph.backbone(contentsOf: path + ".missing", upTo: "features",
                                                            pixelScale: pixelScale, pixelShift: pixelShift)) { error in
            XCTAssertEqual((error as? PerceptError)?.path, path + ".missing")
        }
    }
}
