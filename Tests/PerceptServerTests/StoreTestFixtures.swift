import Foundation
import Percept
@testable import PerceptServer
import XCTest

/// Small archives and folders for the store's tests: a few synthetic-shape PNGs per label,
/// packed by the system's `tar`/`zip` (a second, independent writer of the formats).
enum StoreFixtures {
    /// A fresh folder, removed by the caller's tearDown.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("percept-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A service in `directory/data` with one ready dataset "shapes" of 3 labels × 10 shapes (16×16),
    /// uploaded as a .tar.gz; the source PNGs stay in `directory/source`.
    static func serviceWithShapes(in directory: URL, workers: Int = 1) async throws -> (LocalPerceptService, Int64) {
        let service = try LocalPerceptService(dataDirectory: directory.appendingPathComponent("data"), workers: workers)
        let source = directory.appendingPathComponent("source")
        try writeImages(to: source)
        let upload = directory.appendingPathComponent("upload.tar.gz")
        try tarGz(["circle", "square", "triangle"], in: source, to: upload)
        let id = try await service.createDataset(name: "shapes", upload: upload)
        let status = try await service.importedDataset(id)
        XCTAssertEqual(status.state, .ready, status.error ?? "")
        return (service, id)
    }

    /// Writes `perLabel` PNGs (16×16) of each of `labels` into `folder/<label>/`.
    static func writeImages(to folder: URL, labels: [String] = ["circle", "square", "triangle"], perLabel: Int = 10) throws {
        let shapes = SyntheticShapes(imageSize: ImageSize(width: 16, height: 16), seed: 7)
        for (labelIndex, label) in labels.enumerated() {
            let labelFolder = folder.appendingPathComponent(label)
            try FileManager.default.createDirectory(at: labelFolder, withIntermediateDirectories: true)
            for index in 0..<perLabel {
                let image = shapes.image(index: index, label: labelIndex % SyntheticShapes.classNames.count)
                try Data(image.pngData()).write(to: labelFolder.appendingPathComponent("\(index).png"))
            }
        }
    }

    /// Runs a tool (tar, zip) in `directory`, failing the test with its output on a non-zero exit.
    static func runTool(_ path: String, _ arguments: [String], in directory: URL) throws {
        guard FileManager.default.isExecutableFile(atPath: path) else { throw XCTSkip("\(path) is not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "StoreFixtures", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "\(path) \(arguments) failed: \(text)"])
        }
    }

    /// A .tar.gz of `members` (paths relative to `directory`, kept verbatim with -P, so `../x` stays `../x`).
    static func tarGz(_ members: [String], in directory: URL, to archive: URL) throws {
        try runTool("/usr/bin/tar", ["-czPf", archive.path] + members, in: directory)
    }

    static func zip(_ members: [String], in directory: URL, to archive: URL) throws {
        try runTool("/usr/bin/zip", ["-qr", archive.path] + members, in: directory)
    }
}

/// Polls `probe` until it returns a value, failing after `timeout` seconds.
func waitFor<T>(_ what: String, timeout: TimeInterval = 60, file: StaticString = #filePath, line: UInt = #line,
                _ probe: () async throws -> T?) async throws -> T {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if let value = try await probe() { return value }
        try await Task.sleep(nanoseconds: 20_000_000)
    }
    XCTFail("timed out after \(timeout) s waiting for \(what)", file: file, line: line)
    throw CancellationError()
}

extension LocalPerceptService {
    /// The dataset once its import has finished (ready or failed).
    func importedDataset(_ id: Int64) async throws -> DatasetStatus {
        try await waitFor("dataset \(id) to finish importing") {
            let status = try await dataset(id)
            return status.state == .importing ? nil : status
        }
    }

    /// The run once it has finished (any state but queued and running).
    func finishedRun(_ id: Int64, timeout: TimeInterval = 120) async throws -> RunStatus {
        try await waitFor("run \(id) to finish", timeout: timeout) {
            let status = try await run(id)
            return status.state == .queued || status.state == .running ? nil : status
        }
    }
}
