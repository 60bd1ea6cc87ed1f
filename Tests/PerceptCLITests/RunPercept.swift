import Foundation
import XCTest

/// Runs the built `percept` executable (debug, else release) with `arguments`; skips the test
/// when it has not been built.
func runPercept(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let binary = [".build/debug/percept", ".build/release/percept"].map { root.appendingPathComponent($0).path }
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let binary else { throw XCTSkip("percept is not built (run swift build first)") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}
