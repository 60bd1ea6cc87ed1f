import Foundation
import XCTest

/// Runs the built `percept` executable (debug, else release) with `arguments`; skips the test
/// when it has not been built.
func runPercept(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    try runProcess(try perceptBinary(), arguments)
}

/// The built `percept` executable (debug, else release), or a skip when it has not been built.
func perceptBinary() throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let binary = [".build/debug/percept", ".build/release/percept"].map { root.appendingPathComponent($0).path }
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let binary else { throw XCTSkip("percept is not built (run swift build first)") }
    return binary
}

/// Runs any program and collects its exit status and output (stderr is read on its own thread,
/// so neither pipe can fill up and stall the program).
func runProcess(_ executable: String, _ arguments: [String], in directory: String? = nil) throws
    -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stderr = OutputBox(), done = DispatchSemaphore(value: 0)
    Thread {
        stderr.data = err.fileHandleForReading.readDataToEndOfFile()
        done.signal()
    }.start()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    done.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr.data, as: UTF8.self))
}

/// Bytes one thread writes and another reads after a semaphore: the semaphore orders them.
private final class OutputBox: @unchecked Sendable {
    var data = Data()
}
