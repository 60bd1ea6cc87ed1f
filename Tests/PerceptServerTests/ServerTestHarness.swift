import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import PerceptServer

/// Drives the web app in-process (HummingbirdTesting's router framework) over a `StubService`.
struct ServerHarness {
    let service: StubService
    let uploadDirectory: URL
    let app: PerceptWebApp

    init(maxUploadBytes: Int = 1 << 20) {
        service = StubService()
        uploadDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("percept-test-uploads-\(UUID().uuidString)")
        app = PerceptWebApp(service: service, maxUploadBytes: maxUploadBytes, uploadDirectory: uploadDirectory,
                            eventPollInterval: .milliseconds(2))
    }

    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await Application(router: app.buildRouter()).test(.router) { client in try await body(client) }
    }

    /// The files left in the upload folder (none after a refused upload or a prediction).
    func filesLeft() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: uploadDirectory.path)) ?? []
    }
}

/// A `multipart/form-data` body as a browser sends it.
struct MultipartBody {
    struct Part {
        var name: String
        var fileName: String?
        var contents: Data
    }

    static let boundary = "----PerceptTestBoundary7MA4YWxk"
    var parts: [Part]

    var buffer: ByteBuffer {
        var data = Data()
        for part in parts {
            data += Data("--\(Self.boundary)\r\n".utf8)
            let fileName = part.fileName.map { "; filename=\"\($0)\"" } ?? ""
            data += Data("Content-Disposition: form-data; name=\"\(part.name)\"\(fileName)\r\n".utf8)
            if part.fileName != nil { data += Data("Content-Type: application/octet-stream\r\n".utf8) }
            data += Data("\r\n".utf8) + part.contents + Data("\r\n".utf8)
        }
        data += Data("--\(Self.boundary)--\r\n".utf8)
        return ByteBuffer(bytes: data)
    }

    var headers: HTTPFields { [.contentType: "multipart/form-data; boundary=\(Self.boundary)"] }
}

extension TestResponse {
    var text: String { String(decoding: body.readableBytesView, as: UTF8.self) }

    func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) }

    func object(file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        try XCTUnwrap(json() as? [String: Any], "not a JSON object: \(text)", file: file, line: line)
    }

    /// The `error` of a JSON error answer.
    func errorMessage(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try XCTUnwrap(object(file: file, line: line)["error"] as? String, "no error in \(text)", file: file, line: line)
    }
}

func jsonBody(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }
