import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import PerceptServer

/// The application as `percept serve` runs it, over a real socket on a free loopback port: an upload
/// arriving in many chunks, a same-origin POST with the real Host header, and the event stream.
final class ServerLiveTests: XCTestCase {
    func testAnUploadInManyChunksAndTheEventStreamOverHTTP() async throws {
        let service = StubService()
        let uploads = FileManager.default.temporaryDirectory.appendingPathComponent("percept-live-\(UUID().uuidString)")
        let app = PerceptWebApp(service: service, port: 0, maxUploadBytes: 4 << 20, uploadDirectory: uploads,
                                eventPollInterval: .milliseconds(2))
        let archive = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let body = MultipartBody(parts: [.init(name: "file", fileName: "big.tar.gz", contents: archive)])
        try await app.buildApplication().test(.live) { client in
            var headers = body.headers
            headers[.origin] = "http://localhost"
            try await client.execute(uri: "/api/datasets", method: .post, headers: headers, body: body.buffer) { response in
                XCTAssertEqual(response.status, .created, response.text)
            }
            try await client.execute(uri: "/api/runs/7/events", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.text.components(separatedBy: "data: ").count - 1, 3, response.text)
            }
            try await client.execute(uri: "/", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
            }
        }
        let refusing = PerceptWebApp(service: service, port: 0, maxUploadBytes: 100_000, uploadDirectory: uploads)
        try await refusing.buildApplication().test(.live) { client in
            try await client.execute(uri: "/api/datasets", method: .post, headers: body.headers, body: body.buffer) { response in
                XCTAssertEqual(response.status, .contentTooLarge)
            }
        }
        let received = await service.uploads
        XCTAssertEqual(received.first?.contents, archive)
        XCTAssertEqual(received.first?.url.pathExtension, "gz")
        XCTAssertEqual(received.count, 1, "the refused upload never reached the service")
    }
}
