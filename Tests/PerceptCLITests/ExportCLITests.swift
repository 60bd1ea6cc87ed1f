import Foundation
import Percept
import XCTest

/// `percept export`: writes an ONNX file that loads back with the contract's input and output,
/// prints what it wrote (text or --json), and refuses bad input with the file named and the
/// project's exit codes (1 usage, 2 input).
final class ExportCLITests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("percept-export-\(UUID().uuidString)").path
        var random = SeededRandom(seed: 5)
        for (label, name) in ["red", "green", "blue"].enumerated() {
            try FileManager.default.createDirectory(atPath: "\(folder)/data/\(name)", withIntermediateDirectories: true)
            for index in 0..<8 {
                var pixels = [UInt8](repeating: 0, count: 8 * 8 * 3)
                for i in pixels.indices { pixels[i] = UInt8(Int.random(in: 0..<90, using: &random) + (i % 3 == label ? 150 : 0)) }
                try Data(try Image(width: 8, height: 8, pixels: pixels).pngData())
                    .write(to: URL(fileURLWithPath: "\(folder)/data/\(name)/\(index).png"))
            }
        }
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    private func train(_ family: String, _ extra: [String] = []) throws -> String {
        let model = "\(folder)/\(family).percept"
        let result = try runPercept(["train", "\(folder)/data", "--model", family, "-o", model] + extra)
        XCTAssertEqual(result.status, 0, result.stderr)
        return model
    }

    func testExportWritesAModelThatLoadsBackAndSaysWhatItWrote() throws {
        let model = try train("softmax", ["--epochs", "2"])
        let output = "\(folder)/softmax.onnx"
        let text = try runPercept(["export", model, "-o", output])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("wrote \(output): images [N, 3, 8, 8] → probabilities [N, 3]"), text.stdout)
        let onnx = try ONNXModel.load(output)
        XCTAssertEqual(onnx.inputs.map(\.description), ["images: FLOAT [N, 3, 8, 8]"])
        XCTAssertEqual(onnx.outputs.map(\.description), ["probabilities: FLOAT [N, 3]"])
        XCTAssertEqual(onnx.metadata["percept.labels"], #"["blue","green","red"]"#)

        let json = try runPercept(["export", model, "-o", output, "--json", "--opset", "13"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(object?["file"] as? String, output)
        XCTAssertEqual(object?["classes"] as? Int, 3)
        XCTAssertEqual(object?["operators"] as? [String], ["Add", "Flatten", "Gemm", "Mul", "Softmax"])
        XCTAssertEqual(try ONNXModel.load(output).opsetVersion, 13)
    }

    func testBadInputIsRefusedNamingTheFile() throws {
        let knn = try train("knn")
        let refused = try runPercept(["export", knn, "-o", "\(folder)/knn.onnx"])
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue(refused.stderr.contains("\(knn): knn cannot be exported to ONNX"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(folder)/knn.onnx"))

        let missing = try runPercept(["export", "\(folder)/nothing.percept", "-o", "\(folder)/x.onnx"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("\(folder)/nothing.percept"), missing.stderr)

        let softmax = try train("softmax", ["--epochs", "1"])
        let noFolder = try runPercept(["export", softmax, "-o", "\(folder)/no/such/folder/x.onnx"])
        XCTAssertEqual(noFolder.status, 2)
        XCTAssertTrue(noFolder.stderr.contains("\(folder)/no/such/folder"), noFolder.stderr)

        let badViews = try runPercept(["export", softmax, "-o", "\(folder)/x.onnx", "--tta", "sideways"])
        XCTAssertEqual(badViews.status, 1)
        XCTAssertTrue(badViews.stderr.contains("flip-translate"), badViews.stderr)
        let badOpset = try runPercept(["export", softmax, "-o", "\(folder)/x.onnx", "--opset", "9"])
        XCTAssertEqual(badOpset.status, 1)
        XCTAssertTrue(badOpset.stderr.contains("opset 9"), badOpset.stderr)
    }
}
