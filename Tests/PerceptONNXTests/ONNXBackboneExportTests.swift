import Foundation
import XCTest
@testable import PerceptONNX
import PerceptCore
import TestSupport

/// A backbone cut at its feature vector with a new head (how a transfer model exports): the old
/// classifier is pruned, Percept's `images` input is normalised as the backbone expects, and the
/// result computes normalise → backbone features → head → softmax.
final class ONNXBackboneExportTests: XCTestCase {
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

    /// images → the backbone cut at `features` → a 3-class softmax head → probabilities, as a transfer
    /// model's export builds it.
    private func transferModel() throws -> (path: String, model: ONNXModel) {
        let backbonePath = try backbone()
        let features = try XCTUnwrap(try ONNXModel.load(backbonePath).classifierInput)
        XCTAssertEqual(features.name, "features")
        var graph = try ONNXGraphBuilder(name: "transfer", opsetVersion: 13)
        graph.addInput("images", shape: [nil, 3, 4, 4])
        let cut = try graph.appendBackbone(contentsOf: backbonePath, upTo: features.name, images: "images",
                                           pixelScale: pixelScale, pixelShift: pixelShift)
        let probabilities = try graph.addSoftmaxHead(cut, weight: headWeight, bias: headBias)
        try graph.addOutput(probabilities, as: "probabilities", shape: [nil, 3])
        graph.setMetadata("percept.labels", #"["a","b","c"]"#)
        let path = backbonePath.replacingOccurrences(of: "backbone.onnx", with: "transfer.onnx")
        try graph.write(to: path)
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
        XCTAssertEqual(model.opsetVersion, 13)
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

    func testABackboneThatDoesNotFitIsRefusedNamingTheFile() throws {
        let path = try backbone()
        func append(_ graph: inout ONNXGraphBuilder, upTo value: String, from file: String = "") throws -> String {
            try graph.appendBackbone(contentsOf: file.isEmpty ? path : file, upTo: value, images: "images",
                                     pixelScale: pixelScale, pixelShift: pixelShift)
        }
        var graph = try ONNXGraphBuilder(name: "g", opsetVersion: 13)
        graph.addInput("images", shape: [nil, 3, 4, 4])
        XCTAssertThrowsError(try append(&graph, upTo: "pool5")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(path) && text.contains("'pool5'") && text.contains("features"), text)
        }
        XCTAssertThrowsError(try append(&graph, upTo: "features", from: path + ".missing")) { error in
            XCTAssertEqual((error as? PerceptError)?.path, path + ".missing")
        }
        var otherOpset = try ONNXGraphBuilder(name: "g")
        otherOpset.addInput("images", shape: [nil, 3, 4, 4])
        XCTAssertThrowsError(try append(&otherOpset, upTo: "features")) { error in
            XCTAssertTrue("\(error)".contains("--opset 13"), "\(error)")
        }
        var otherSize = try ONNXGraphBuilder(name: "g", opsetVersion: 13)
        otherSize.addInput("images", shape: [nil, 3, 8, 8])
        XCTAssertThrowsError(try append(&otherSize, upTo: "features")) { error in
            XCTAssertTrue("\(error)".contains("[N, 3, 4, 4]"), "\(error)")
        }
    }

    /// EfficientNet-Lite0 (../shared) cut at its 1,280 features: the cut graph's features give the
    /// original's logits through the original classifier, and the new head computes softmax(W·f + b).
    func testEfficientNetLite0CutAtItsFeaturesKeepsTheBackbonesNumbers() throws {
        let path = try EfficientNetLite0LoadTests.modelPath()
        let original = try ONNXModel.load(path)
        let features = try XCTUnwrap(original.classifierInput)
        let scale: [Float] = [1 / 128, 1 / 128, 1 / 128], shift: [Float] = [-127 / 128, -127 / 128, -127 / 128]
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("percept-cut-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        func graph(_ name: String) throws -> (ONNXGraphBuilder, String) {
            var graph = try ONNXGraphBuilder(name: name)
            graph.addInput("images", shape: [nil, 3, 224, 224])
            let cut = try graph.appendBackbone(contentsOf: path, upTo: features.name, images: "images",
                                               pixelScale: scale, pixelShift: shift)
            return (graph, cut)
        }
        var (cut, cutFeatures) = try graph("features")
        try cut.addOutput(cutFeatures, as: "features", shape: [nil, 1280])
        let cutPath = folder.appendingPathComponent("features.onnx").path
        try cut.write(to: cutPath)

        var random = SeededRandom(seed: 4)
        let headWeight: [Float] = (0..<(3 * 1280)).map { _ in random.nextUnitFloat() * 0.1 - 0.05 }
        let headBias: [Float] = [0.2, 0, -0.2]
        var (transfer, features1280) = try graph("transfer")
        try transfer.addOutput(try transfer.addSoftmaxHead(features1280, weight: headWeight, bias: headBias),
                               as: "probabilities", shape: [nil, 3])
        let transferPath = folder.appendingPathComponent("transfer.onnx").path
        try transfer.write(to: transferPath)
        let loaded = try ONNXModel.load(transferPath)
        XCTAssertEqual(loaded.initializers.count, original.initializers.count - 2 + 4,
                       "the ImageNet classifier's weight and bias out; normalisation and head in")
        XCTAssertEqual(loaded.nodes.filter { $0.operatorType == "Gemm" }.count, 1)
        XCTAssertEqual(loaded.classifierInput?.width, 1280)

        let n = 2, count = 3 * 224 * 224
        let pixels: [Float] = (0..<(n * count)).map { index in
            let value: Int = (index * 7919 + (index / 224) * 31) % 256
            return Float(value)
        }
        let normalized: [Float] = pixels.map { $0 * scale[0] + shift[0] }
        let originalLogits = try ONNXRuntimeOracle.run(model: path, images: normalized, shape: [n, 3, 224, 224],
                                                       output: "logits")
        let featureValues = try ONNXRuntimeOracle.run(model: cutPath, images: pixels, shape: [n, 3, 224, 224],
                                                      output: "features")
        let probabilities = try ONNXRuntimeOracle.run(model: transferPath, images: pixels, shape: [n, 3, 224, 224])
        XCTAssertEqual(featureValues.count, n * 1280)
        let classifier = try XCTUnwrap(original.nodes.last)
        let fcWeight = try XCTUnwrap(original.initializers[classifier.inputs[1]]?.floatTensor).scalars
        let fcBias = try XCTUnwrap(original.initializers[classifier.inputs[2]]?.floatTensor).scalars
        func affine(_ weight: [Float], _ bias: [Float], _ item: Int) -> [Float] {
            var result = bias
            for k in bias.indices {
                for j in 0..<1280 { result[k] += weight[k * 1280 + j] * featureValues[item * 1280 + j] }
            }
            return result
        }
        var expectedLogits: [Float] = [], expectedProbabilities: [Float] = []
        for item in 0..<n {
            expectedLogits += affine(fcWeight, fcBias, item)
            let scores = affine(headWeight, headBias, item), largest = scores.max() ?? 0
            let exponentials = scores.map { exp($0 - largest) }, sum = exponentials.reduce(0, +)
            expectedProbabilities += exponentials.map { $0 / sum }
        }
        let logitScale = originalLogits.map(abs).max() ?? 1
        assertClose(originalLogits, expectedLogits, rtol: 0, atol: 1e-4 * logitScale, "the cut keeps the backbone's numbers")
        assertClose(probabilities, expectedProbabilities, rtol: 0, atol: 1e-5)
    }
}
