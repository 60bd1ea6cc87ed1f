import Foundation
import XCTest
@testable import PerceptONNX
import PerceptCore
import TestSupport

/// The export side: graphs written with `ONNXGraphBuilder` load back through `ONNXModel.load` with
/// their shapes, weights, attributes and metadata, and compute what they should in onnxruntime.
final class ONNXGraphBuilderTests: XCTestCase {
    private func temporaryPath(_ name: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("percept-export-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder.appendingPathComponent(name).path
    }

    /// images [N, 3, 2, 2] → Flatten → Gemm (12 → 2, weights i/10, transB) → Softmax → probabilities.
    private func smallClassifier() throws -> ONNXGraphBuilder {
        var graph = try ONNXGraphBuilder(name: "small")
        graph.addInput("images", shape: [nil, 3, 2, 2])
        let rows = try graph.addFlatten("images", name: "flatten")
        let scores = try graph.addFullyConnected(rows, weight: (0..<24).map { Float($0) / 10 }, inputs: 12, units: 2,
                                                 transposed: true, bias: [0.5, -0.5], name: "scores")
        try graph.addOutput(try graph.addSoftmax(scores), as: "probabilities", shape: [nil, 2])
        graph.setMetadata("percept.labels", #"["cat","dog"]"#)
        graph.setMetadata("percept.input_size", "2x2")
        graph.setMetadata("percept.input_size", "2x2")  // set twice, stored once
        return graph
    }

    func testWrittenModelLoadsBackWithShapesWeightsAttributesAndMetadata() throws {
        let path = try temporaryPath("small.onnx")
        try smallClassifier().write(to: path)
        let model = try ONNXModel.load(path)
        XCTAssertEqual(model.opsetVersion, 17)
        XCTAssertEqual(model.irVersion, 8)
        XCTAssertEqual(model.producer, "percept \(PerceptVersion.current)")
        XCTAssertEqual(model.inputs.map(\.description), ["images: FLOAT [N, 3, 2, 2]"])
        XCTAssertEqual(model.outputs.map(\.description), ["probabilities: FLOAT [N, 2]"])
        XCTAssertEqual(model.metadata, ["percept.labels": #"["cat","dog"]"#, "percept.input_size": "2x2"])
        XCTAssertEqual(model.nodes.map(\.operatorType), ["Flatten", "Gemm", "Softmax"])
        XCTAssertEqual(model.nodes[1].attributes["transB"], .int(1))
        XCTAssertEqual(model.nodes[2].attributes["axis"], .int(1))
        XCTAssertEqual(model.nodes.last?.outputs, ["probabilities"], "the last node writes the output itself")
        XCTAssertEqual(model.initializers["scores.weight"]?.floatTensor, Tensor(shape: [2, 12], scalars: (0..<24).map { Float($0) / 10 }))
        XCTAssertEqual(model.initializers["scores.bias"]?.floatTensor?.scalars, [0.5, -0.5])
        XCTAssertEqual(model.classifierInput?.width, 12)
    }

    func testTheSameGraphWritesTheSameBytes() throws {
        XCTAssertEqual(try smallClassifier().serializedData(), try smallClassifier().serializedData())
    }

    func testOnnxruntimeComputesTheSoftmaxOfTheScores() throws {
        let path = try temporaryPath("small.onnx")
        try smallClassifier().write(to: path)
        let images: [Float] = (0..<24).map { Float($0 % 7) / 7 }
        let output = try ONNXRuntimeOracle.run(model: path, images: images, shape: [2, 3, 2, 2])
        let bias: [Float] = [0.5, -0.5]
        var expected: [Float] = []
        for item in 0..<2 {
            var scores: [Float] = bias
            for unit in 0..<2 {
                for feature in 0..<12 { scores[unit] += images[item * 12 + feature] * Float(unit * 12 + feature) / 10 }
            }
            let largest = max(scores[0], scores[1])
            let exponentials = scores.map { exp($0 - largest) }
            let sum = exponentials[0] + exponentials[1]
            expected += exponentials.map { $0 / sum }
        }
        assertClose(output, expected, rtol: 1e-5, atol: 1e-6)
    }

    func testOpsetsPerceptCannotReadAndUnknownOperatorsAreRefused() throws {
        XCTAssertThrowsError(try ONNXGraphBuilder(name: "old", opsetVersion: 11)) { error in
            XCTAssertTrue("\(error)".contains("13...21"), "\(error)")
        }
        XCTAssertThrowsError(try ONNXGraphBuilder(name: "new", opsetVersion: 22))
        var graph = try ONNXGraphBuilder(name: "g", opsetVersion: 13)
        graph.addInput("x", shape: [nil, 4])
        XCTAssertThrowsError(try graph.addNode("LSTM", inputs: ["x"])) { error in
            XCTAssertTrue("\(error)".contains("'LSTM'") && "\(error)".contains("Gemm"), "\(error)")
        }
    }

    func testNamesStayUnique() throws {
        var graph = try ONNXGraphBuilder(name: "g")
        graph.addInput("x", shape: [nil, 2])
        let first = graph.addInitializer("w", shape: [2], values: [1, 2])
        let second = graph.addInitializer("w", shape: [2], values: [3, 4])
        XCTAssertEqual([first, second], ["w", "w_2"])
        let a = try graph.addNode("Relu", inputs: ["x"], name: "act")
        let b = try graph.addNode("Relu", inputs: [a], name: "act")
        XCTAssertNotEqual(a, b)
        XCTAssertThrowsError(try graph.addOutput(b, as: "w", shape: [nil, 2]), "an output may not take an initialiser's name")
        try graph.addOutput(b, as: "y", shape: [nil, 2])
        let path = try temporaryPath("names.onnx")
        try graph.write(to: path)
        let model = try ONNXModel.load(path)
        XCTAssertEqual(Set(model.nodes.map(\.name)).count, 2)
        XCTAssertEqual(model.outputs.map(\.name), ["y"])
    }
}
