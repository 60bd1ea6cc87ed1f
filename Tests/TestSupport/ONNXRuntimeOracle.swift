import Foundation
import XCTest

/// onnxruntime as a test oracle: runs an `.onnx` file on Float32 NCHW images through
/// `Tests/Scripts/onnxruntime_run.py` and returns one output. Skips the test (XCTSkip) when Python,
/// NumPy or onnxruntime is missing.
public enum ONNXRuntimeOracle {
    /// The output `output` (row-major, flattened) of the model at `model` for `images` of `shape` (N, C, H, W).
    public static func run(model: String, images: [Float], shape: [Int], output: String = "probabilities") throws -> [Float] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/onnxruntime_run.py").path
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ort-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = folder.appendingPathComponent("images.f32"), stdout = folder.appendingPathComponent("stdout.json"),
            stderr = folder.appendingPathComponent("stderr.txt")
        try Data(images.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }).write(to: input)
        try Data().write(to: stdout)
        try Data().write(to: stderr)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, model, input.path, shape.map(String.init).joined(separator: ",")]
        process.standardOutput = try FileHandle(forWritingTo: stdout)
        process.standardError = try FileHandle(forWritingTo: stderr)
        do {
            try process.run()
        } catch {
            throw XCTSkip("python3 cannot be started (\(error)); the onnxruntime comparison needs it")
        }
        process.waitUntilExit()
        let message = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
        // 127: env found no python3; 3: the script found no onnxruntime or NumPy.
        if process.terminationStatus == 127 || process.terminationStatus == 3 {
            throw XCTSkip("onnxruntime is not available (pip install onnxruntime numpy): \(message)")
        }
        guard process.terminationStatus == 0 else {
            throw OracleError(message: "onnxruntime_run.py exited \(process.terminationStatus): \(message)")
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: stdout)) as? [String: Any]
        guard let outputs = json?["outputs"] as? [String: Any], let value = outputs[output] else {
            throw OracleError(message: "onnxruntime gave no output '\(output)'")
        }
        return flatten(value)
    }

    private static func flatten(_ value: Any) -> [Float] {
        if let number = value as? Double { return [Float(number)] }
        if let list = value as? [Any] { return list.flatMap(flatten) }
        return []
    }

    public struct OracleError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}
