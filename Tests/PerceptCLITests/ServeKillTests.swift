import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// `percept serve` killed with SIGKILL in the middle of an import and of a training: the restarted
/// server finds every committed dataset, finishes or fails the import it was cut off in, and shows the
/// training run as interrupted — nothing committed is lost.
final class ServeKillTests: XCTestCase {
    var folder = ""

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("serve-kill-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: folder) }

    /// Starts `percept serve` on a free port and waits until it answers.
    private func startServer(port: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try perceptBinary())
        process.arguments = ["serve", "--port", String(port), "--data-dir", "\(folder)/data"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? request("GET", port: port, path: "/api/datasets")) != nil { return process }
            Thread.sleep(forTimeInterval: 0.1)
        }
        process.terminate()
        throw XCTSkip("percept serve did not start on port \(port)")
    }

    private func freePort() -> Int { Int.random(in: 20_000...60_000) }

    /// One HTTP request, answered synchronously: (status, body).
    private func request(_ method: String, port: Int, path: String, body: Data? = nil, contentType: String? = nil)
        throws -> (Int, Data) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!, timeoutInterval: 30)
        request.httpMethod = method
        request.httpBody = body
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: (Int, Data)?
        nonisolated(unsafe) var failure: Error?
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let error { failure = error } else { result = ((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()) }
            done.signal()
        }.resume()
        done.wait()
        if let failure { throw failure }
        return result ?? (0, Data())
    }

    private func json(_ data: Data) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any], String(decoding: data, as: UTF8.self))
    }

    /// Polls `path` until `field` of its JSON is one of `values`.
    private func waitFor(_ port: Int, _ path: String, _ field: String, in values: [String], timeout: TimeInterval = 120) throws
        -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let document = try json(try request("GET", port: port, path: path).1)
            if let value = document[field] as? String, values.contains(value) { return document }
            if Date() > deadline { XCTFail("\(path): \(field) never became \(values): \(document)"); return document }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    private func upload(_ archive: String, port: Int) throws -> Int {
        let boundary = "----PerceptKillTest"
        var body = Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"shapes.tar.gz\"\r\n".utf8)
        body += Data("Content-Type: application/gzip\r\n\r\n".utf8)
        body += try Data(contentsOf: URL(fileURLWithPath: archive))
        body += Data("\r\n--\(boundary)--\r\n".utf8)
        let (status, answer) = try request("POST", port: port, path: "/api/datasets", body: body,
                                           contentType: "multipart/form-data; boundary=\(boundary)")
        XCTAssertEqual(status, 201, String(decoding: answer, as: UTF8.self))
        return try XCTUnwrap(try json(answer)["id"] as? Int)
    }

    func testKillingTheServerMidImportAndMidTrainingLosesNothingCommitted() throws {
        let shapes = "\(folder)/shapes"
        XCTAssertEqual(try runPercept(["dataset", "synthesize", "-o", shapes, "--folders", "--per-class", "40"]).status, 0)
        let archive = "\(folder)/shapes.tar.gz"
        XCTAssertEqual(try runProcess("/bin/tar", ["czf", archive, "-C", shapes, "."]).status, 0)

        var port = freePort()
        var server = try startServer(port: port)
        let ready = try upload(archive, port: port)
        _ = try waitFor(port, "/api/datasets/\(ready)", "state", in: ["ready"])
        let (status, answer) = try request("POST", port: port, path: "/api/datasets/\(ready)/runs",
                                           body: Data(#"{"model":"cnn","options":{"arch":"tiny","epochs":"200"}}"#.utf8),
                                           contentType: "application/json")
        XCTAssertEqual(status, 201, String(decoding: answer, as: UTF8.self))
        let run = try XCTUnwrap(try json(answer)["id"] as? Int)
        _ = try waitFor(port, "/api/runs/\(run)", "state", in: ["running"])
        let cutOff = try upload(archive, port: port)   // its import starts; the kill lands during it or just after
        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()

        port = freePort()
        server = try startServer(port: port)
        defer { server.terminate(); server.waitUntilExit() }
        let interrupted = try json(try request("GET", port: port, path: "/api/runs/\(run)").1)
        XCTAssertEqual(interrupted["state"] as? String, "interrupted", "\(interrupted)")
        let dataset = try json(try request("GET", port: port, path: "/api/datasets/\(ready)").1)
        XCTAssertEqual(dataset["state"] as? String, "ready")
        XCTAssertEqual(dataset["imageCount"] as? Int, 400, "the committed dataset is whole")
        // The import cut off by the kill ends either way, with its images or a reason, never half-stored.
        let second = try waitFor(port, "/api/datasets/\(cutOff)", "state", in: ["ready", "failed"])
        if second["state"] as? String == "ready" { XCTAssertEqual(second["imageCount"] as? Int, 400) }
        else { XCTAssertNotNil(second["error"] as? String) }
        // And the server still trains.
        let (again, runAnswer) = try request("POST", port: port, path: "/api/datasets/\(ready)/runs",
                                             body: Data(#"{"model":"knn","options":{}}"#.utf8), contentType: "application/json")
        XCTAssertEqual(again, 201)
        let knn = try XCTUnwrap(try json(runAnswer)["id"] as? Int)
        _ = try waitFor(port, "/api/runs/\(knn)", "state", in: ["succeeded"])
    }
}
