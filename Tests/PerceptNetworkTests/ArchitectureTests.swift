import XCTest
import Foundation
import PerceptCore
@testable import PerceptNetwork

final class ArchitectureTests: XCTestCase {
    let cifar = FeatureShape(height: 32, width: 32, channels: 3)

    func testBuiltInArchitecturesBuildWithTheExpectedCost() throws {
        let airbench = try Network(architecture: .airbench94(), inputShape: cifar, classCount: 10, seed: 1)
        // 236 MFLOP forward per image (the issue's 708 MFLOP per training image is 3×).
        XCTAssertEqual(Double(airbench.forwardFlopsPerImage) / 1e6, 236, accuracy: 2)
        XCTAssertEqual(airbench.layers.last?.outputShape, FeatureShape(vector: 10))
        let resnet = try Network(architecture: .resnet20(), inputShape: cifar, classCount: 10, seed: 1)
        // ≈ 41 M multiply-adds (He et al.: 0.27 M parameters).
        XCTAssertEqual(Double(resnet.forwardFlopsPerImage) / 2e6, 41, accuracy: 1.5)
        let parameterCount = resnet.parameters.reduce(0) { $0 + $1.count }
        XCTAssertEqual(Double(parameterCount) / 1e6, 0.27, accuracy: 0.01)
    }

    func testJSONRoundTripAndFileLoading() throws {
        let architecture = Architecture.resnet20()
        let path = NSTemporaryDirectory() + "arch-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try architecture.json().write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try Architecture.load(path), architecture)
        let text = #"{"name": "small", "layers": [{"type": "conv", "filters": 4}, {"type": "relu"}, {"type": "globalavgpool"}, {"type": "linear"}]}"#
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let small = try Architecture.load(path)
        XCTAssertEqual(try Network(architecture: small, inputShape: cifar, classCount: 3, seed: 0).classCount, 3)
    }

    func testImpossibleShapesAreRejectedNamingTheLayer() {
        func error(_ layers: [LayerSpec], input: FeatureShape = FeatureShape(height: 8, width: 8, channels: 3)) -> String {
            do {
                _ = try Network(architecture: Architecture(name: "bad", layers: layers), inputShape: input, classCount: 10, seed: 0)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        // Four 2×2 poolings shrink 8×8 to 0×0: the fourth cannot run.
        let tooDeep = error([.conv(4), .maxPool(2), .maxPool(2), .maxPool(2), .maxPool(2), .flatten, .linear()])
        XCTAssertTrue(tooDeep.contains("layer 5 (maxpool"), tooDeep)
        let bigKernel = error([.conv(4, kernel: 9, padding: 0, name: "wide")])
        XCTAssertTrue(bigKernel.contains("'wide'") && bigKernel.contains("does not fit"), bigKernel)
        let mismatch = error([.residual([.conv(8, stride: 2)], name: "block")])
        XCTAssertTrue(mismatch.contains("'block'") && mismatch.contains("shortcut"), mismatch)
        let noHead = error([.conv(4), .globalAveragePool])
        XCTAssertTrue(noHead.contains("linear"), noHead)
        let unknown = error([LayerSpec(type: "convolution")])
        XCTAssertTrue(unknown.contains("unknown layer type"), unknown)
    }

    func testBadJSONNamesTheProblem() throws {
        let path = NSTemporaryDirectory() + "arch-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(#"{"name": "x", "layers": [{"type": "conv", "filters": "many"}]}"#.utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try Architecture.load(path)) { error in
            XCTAssertTrue("\(error)".contains("layers[0].filters"), "\(error)")
        }
    }
}
