import Foundation
import XCTest

/// `percept backbone inspect` on the shared EfficientNet-Lite0 and on a file that is not ONNX.
final class BackboneInspectCLITests: XCTestCase {
    func testInspectSummarisesTheSharedBackbone() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let model = root.deletingLastPathComponent().appendingPathComponent("shared/models/efficientnet-lite0.onnx").path
        guard FileManager.default.fileExists(atPath: model) else { throw XCTSkip("\(model) is absent") }
        let text = try runPercept(["backbone", "inspect", model])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("input   images: FLOAT [N, 3, 224, 224]"), text.stdout)
        XCTAssertTrue(text.stdout.contains("110 nodes: Conv ×49, Clip ×33, Pad ×17, Add ×9, Gemm ×1, ReduceMean ×1"),
                      text.stdout)
        let json = try runPercept(["backbone", "inspect", model, "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(summary["parameterCount"] as? Int, 4_631_002)
        XCTAssertEqual((summary["classifierInput"] as? [String: Any])?["width"] as? Int, 1280)
    }

    func testInspectOfANonONNXFileExitsWithTheReason() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-model-\(UUID().uuidString).onnx").path
        try Data("label,file\ncat,cat.jpg\n".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try runPercept(["backbone", "inspect", path])
        XCTAssertEqual(run.status, 2)
        XCTAssertTrue(run.stderr.contains(path) && run.stderr.contains("not an ONNX model"), run.stderr)
    }
}
