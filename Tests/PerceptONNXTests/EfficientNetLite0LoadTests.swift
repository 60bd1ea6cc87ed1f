import Foundation
import XCTest
@testable import PerceptONNX
import PerceptCore

/// The real backbone in ../shared/models: what its README says it holds, read through the importer.
final class EfficientNetLite0LoadTests: XCTestCase {
    /// ../shared/models/efficientnet-lite0.onnx beside the package, or a skip when it is absent.
    static func modelPath() throws -> String {
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()  // PerceptONNXTests
            .deletingLastPathComponent().deletingLastPathComponent()  // Tests, then the package
        let path = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/models/efficientnet-lite0.onnx").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("\(path) is absent (the shared models live beside the package)")
        }
        return path
    }

    func testGraphMatchesTheModelCard() throws {
        let model = try ONNXModel.load(try Self.modelPath())
        XCTAssertEqual(model.opsetVersion, 17)
        XCTAssertEqual(model.nodes.count, 110)
        XCTAssertEqual(model.operatorTypes, ["Conv", "Pad", "Clip", "Add", "ReduceMean", "Gemm"])
        XCTAssertEqual(model.nodes.filter { $0.operatorType == "Conv" }.count, 49)
        XCTAssertEqual(model.inputs, [ONNXValueInfo(name: "images", elementType: "FLOAT", shape: [nil, 3, 224, 224])])
        XCTAssertEqual(model.outputs, [ONNXValueInfo(name: "logits", elementType: "FLOAT", shape: [nil, 1000])])
        // 49 convolutions and the classifier, each with weight and bias, ReLU6's two bounds, and four
        // distinct Int64 pad lists for the TensorFlow-style "same" padding.
        XCTAssertEqual(model.initializers.count, 106)
        XCTAssertEqual(model.initializers.values.filter { $0.integers != nil }.count, 4)
        XCTAssertEqual(model.parameterCount, 4_631_002, "≈ 4.63 M: the card's 4.65 M before BatchNorm was folded")
    }

    func testFinalGemmReadsThe1280WideFeatureVector() throws {
        let model = try ONNXModel.load(try Self.modelPath())
        let gemm = try XCTUnwrap(model.nodes.last)
        XCTAssertEqual(gemm.operatorType, "Gemm")
        XCTAssertEqual(gemm.outputs, ["logits"])
        let weight = try XCTUnwrap(model.initializers[gemm.inputs[1]]?.floatTensor)
        let bias = try XCTUnwrap(model.initializers[gemm.inputs[2]]?.floatTensor)
        // Gemm computes A·Bᵀ when transB = 1 (PyTorch's Linear): B is 1000×1280.
        let transposed = gemm.attributes["transB"] == .int(1)
        XCTAssertEqual(weight.shape, transposed ? [1000, 1280] : [1280, 1000])
        XCTAssertEqual(bias.shape, [1000])
        XCTAssertTrue(weight.scalars.allSatisfy(\.isFinite))
        // The feature vector itself comes from the global average pool just before.
        let pool = try XCTUnwrap(model.nodes.first { $0.outputs.contains(gemm.inputs[0]) })
        XCTAssertEqual(pool.operatorType, "ReduceMean")
        XCTAssertEqual(pool.attributes["axes"], .ints([2, 3]))
        XCTAssertEqual(model.classifierInput,
                       ONNXFeatureVector(name: gemm.inputs[0], width: 1280, classifierNode: gemm.name))
    }

    func testPadsAndClipBoundsAreReadAsValues() throws {
        let model = try ONNXModel.load(try Self.modelPath())
        let pad = try XCTUnwrap(model.nodes.first { $0.operatorType == "Pad" })
        let pads = try XCTUnwrap(model.initializers[pad.inputs[1]]?.integers)
        XCTAssertEqual(pads.count, 8, "begin and end for N, C, H, W")
        XCTAssertEqual(Array(pads[0...1] + pads[4...5]), [0, 0, 0, 0], "no padding of batch or channels")
        let clip = try XCTUnwrap(model.nodes.first { $0.operatorType == "Clip" })
        let bounds = try clip.inputs.dropFirst().map { try XCTUnwrap(model.initializers[$0]?.floatTensor?.scalars) }
        XCTAssertEqual(bounds, [[0], [6]], "ReLU6")
    }
}
