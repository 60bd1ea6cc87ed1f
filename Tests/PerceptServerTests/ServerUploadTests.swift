import Foundation
import Hummingbird
import HummingbirdTesting
import Percept
import XCTest
@testable import PerceptServer

/// Uploads: streamed to server-named files, the size limit, hostile names, and the cross-site check on POSTs.
final class ServerUploadTests: XCTestCase {
    let archive = Data((0..<3000).map { UInt8($0 % 251) })

    func testDatasetUploadReachesTheServiceUnderAServerMadeName() async throws {
        let harness = ServerHarness()
        let body = MultipartBody(parts: [.init(name: "name", fileName: nil, contents: Data("my pets".utf8)),
                                         .init(name: "file", fileName: "photos.zip", contents: archive)])
        try await harness.test { client in
            try await client.execute(uri: "/api/datasets", method: .post, headers: body.headers, body: body.buffer) { response in
                XCTAssertEqual(response.status, .created, response.text)
                XCTAssertEqual(try response.object()["id"] as? Int, 101)
            }
        }
        let uploads = await harness.service.uploads
        let upload = try XCTUnwrap(uploads.first)
        XCTAssertEqual(upload.name, "my pets")
        XCTAssertEqual(upload.contents, archive)
        XCTAssertEqual(upload.url.deletingLastPathComponent().standardizedFileURL.path,
                       harness.uploadDirectory.standardizedFileURL.path)
        XCTAssertTrue(upload.url.lastPathComponent.hasPrefix("upload-"), upload.url.lastPathComponent)
        XCTAssertTrue(upload.url.lastPathComponent.hasSuffix(".zip"), upload.url.lastPathComponent)
        XCTAssertFalse(upload.url.lastPathComponent.contains("photos"))
    }

    func testAHostileFileNameIsNeverUsedAsAPath() async throws {
        let harness = ServerHarness()
        let body = MultipartBody(parts: [.init(name: "file", fileName: "../../etc/passwd", contents: archive)])
        try await harness.test { client in
            try await client.execute(uri: "/api/datasets", method: .post, headers: body.headers, body: body.buffer) { response in
                XCTAssertEqual(response.status, .created, response.text)
            }
            let photo = MultipartBody(parts: [.init(name: "file", fileName: "..\\..\\evil/../../x.jpg", contents: Data([1, 2]))])
            try await client.execute(uri: "/api/models/11/predict", method: .post, headers: photo.headers, body: photo.buffer) { response in
                XCTAssertEqual(response.status, .ok, response.text)
                XCTAssertEqual((try response.json() as? [[String: Any]])?.first?["path"] as? String, "x.jpg")
            }
        }
        let uploads = await harness.service.uploads
        let upload = try XCTUnwrap(uploads.first)
        XCTAssertEqual(upload.name, "passwd", "the display name is the last component only")
        XCTAssertEqual(upload.url.deletingLastPathComponent().standardizedFileURL.path,
                       harness.uploadDirectory.standardizedFileURL.path)
        XCTAssertFalse(upload.url.lastPathComponent.contains("passwd"))
        XCTAssertFalse(upload.url.path.contains(".."))
        let predicted = await harness.service.predictedImages
        XCTAssertEqual(predicted.map(\.name), ["x.jpg"], "a photo to predict is named by its last component only")
    }

    func testAnUploadOverTheLimitIs413AndLeavesNothing() async throws {
        let harness = ServerHarness(maxUploadBytes: 1000)
        let body = MultipartBody(parts: [.init(name: "file", fileName: "big.zip", contents: archive)])
        try await harness.test { client in
            try await client.execute(uri: "/api/datasets", method: .post, headers: body.headers, body: body.buffer) { response in
                XCTAssertEqual(response.status, .contentTooLarge)
                XCTAssertTrue(try response.errorMessage().contains("limit"))
            }
            // Refused from Content-Length alone, before a byte is read (the test client keeps the header
            // when it sends no body; read, the empty body would be a 400).
            var headers = body.headers
            headers[.contentLength] = "5000000"
            try await client.execute(uri: "/api/datasets", method: .post, headers: headers, body: nil) { response in
                XCTAssertEqual(response.status, .contentTooLarge)
            }
        }
        let uploads = await harness.service.uploads
        XCTAssertTrue(uploads.isEmpty)
        XCTAssertEqual(harness.filesLeft(), [])
    }

    func testAPhotoSentAsTheWholeBodyIsPredictedUnderItsName() async throws {
        let harness = ServerHarness(maxUploadBytes: 1000)
        try await harness.test { client in
            try await client.execute(uri: "/api/models/11/predict?top=1&name=../cats/tabby.jpg", method: .post,
                                     headers: [.contentType: "image/jpeg"], body: ByteBuffer(bytes: [1, 2, 3])) { response in
                XCTAssertEqual(response.status, .ok, response.text)
                XCTAssertEqual((try response.json() as? [[String: Any]])?.first?["path"] as? String, "tabby.jpg")
            }
            try await client.execute(uri: "/api/models/11/predict", method: .post,
                                     headers: [.contentType: "application/octet-stream"], body: ByteBuffer(bytes: [4])) { response in
                XCTAssertEqual(response.status, .ok, response.text)
                XCTAssertEqual((try response.json() as? [[String: Any]])?.first?["path"] as? String, "photo")
            }
            try await client.execute(uri: "/api/models/11/predict", method: .post, headers: [.contentType: "image/png"],
                                     body: ByteBuffer(bytes: [UInt8](repeating: 7, count: 4000))) { response in
                XCTAssertEqual(response.status, .contentTooLarge)
            }
            try await client.execute(uri: "/api/models/11/predict", method: .post, headers: [.contentType: "image/png"],
                                     body: ByteBuffer()) { response in
                XCTAssertEqual(response.status, .badRequest)
                XCTAssertTrue(try response.errorMessage().contains("empty"))
            }
        }
        let received = await harness.service.predictedImages
        XCTAssertEqual(received.map(\.name), ["tabby.jpg", "photo"])
        XCTAssertEqual(received.map(\.contents), [Data([1, 2, 3]), Data([4])])
        XCTAssertEqual(harness.filesLeft(), [])
    }

    func testPhotosToPredictOverTheLimitAre413AndNothingIsPredicted() async throws {
        let harness = ServerHarness(maxUploadBytes: 1000)
        let body = MultipartBody(parts: [.init(name: "file", fileName: "big.jpg", contents: Data(count: 4000))])
        try await harness.test { client in
            try await client.execute(uri: "/api/models/11/predict", method: .post, headers: body.headers, body: body.buffer) { response in
                XCTAssertEqual(response.status, .contentTooLarge)
            }
        }
        let predicted = await harness.service.predictedImages
        XCTAssertTrue(predicted.isEmpty)
        // The in-memory limit is the smaller of the two.
        XCTAssertLessThanOrEqual(PerceptWebApp.maxPredictBytes, PerceptWebApp.defaultMaxUploadBytes)
    }

    func testMalformedUploadsAre400() async throws {
        let harness = ServerHarness()
        let archive = self.archive
        try await harness.test { client in
            try await client.execute(uri: "/api/datasets", method: .post, headers: [.contentType: "application/json"],
                                     body: jsonBody("{}")) { response in
                XCTAssertEqual(response.status, .badRequest)
                XCTAssertTrue(try response.errorMessage().contains("multipart"))
            }
            let noFile = MultipartBody(parts: [.init(name: "name", fileName: nil, contents: Data("x".utf8))])
            try await client.execute(uri: "/api/datasets", method: .post, headers: noFile.headers, body: noFile.buffer) { response in
                XCTAssertEqual(response.status, .badRequest)
                XCTAssertTrue(try response.errorMessage().contains("file"))
            }
            var truncated = MultipartBody(parts: [.init(name: "file", fileName: "a.zip", contents: archive)]).buffer
            truncated.moveWriterIndex(to: truncated.writerIndex - 40)
            try await client.execute(uri: "/api/datasets", method: .post, headers: noFile.headers, body: truncated) { response in
                XCTAssertEqual(response.status, .badRequest)
            }
            let photo = MultipartBody(parts: [.init(name: "file", fileName: "a.jpg", contents: Data([1]))])
            try await client.execute(uri: "/api/models/11/predict?top=0", method: .post, headers: photo.headers,
                                     body: photo.buffer) { response in
                XCTAssertEqual(response.status, .badRequest)
            }
        }
        XCTAssertEqual(harness.filesLeft(), [])
    }

    func testPredictAnswersUnderTheClientsNamesAndWritesNoFiles() async throws {
        let harness = ServerHarness()
        let body = MultipartBody(parts: [.init(name: "file", fileName: "tabby.jpg", contents: Data([1, 2, 3])),
                                         .init(name: "file", fileName: "rex.png", contents: Data([4, 5]))])
        try await harness.test { client in
            try await client.execute(uri: "/api/models/11/predict", method: .post, headers: body.headers, body: body.buffer) { response in
                XCTAssertEqual(response.status, .ok, response.text)
                let predictions = try XCTUnwrap(response.json() as? [[String: Any]])
                XCTAssertEqual(predictions.map { $0["path"] as? String }, ["tabby.jpg", "rex.png"])
                XCTAssertEqual((predictions.first?["top"] as? [[String: Any]])?.first?["label"] as? String, "cat")
            }
        }
        let received = await harness.service.predictedImages
        XCTAssertEqual(received.map(\.name), ["tabby.jpg", "rex.png"])
        XCTAssertEqual(received.map(\.contents), [Data([1, 2, 3]), Data([4, 5])])
        XCTAssertEqual(harness.filesLeft(), [], "photos to predict are held in memory, never written")
    }

    /// Photo bytes full of carriage returns, line feeds and dashes (where the parser stops to look for the
    /// boundary) arrive intact, several to a request, with the boundary quoted or not.
    func testPhotoBytesThatLookLikeBoundariesArriveIntact() async throws {
        var generator = SeededRandom(seed: 16)
        let alphabet: [UInt8] = [13, 10, 45, 0, 255, 65]
        let photos = (0..<3).map { index in Data((0..<(20_000 + 7 * index)).map { _ in alphabet.randomElement(using: &generator) ?? 0 }) }
        let body = MultipartBody(parts: photos.enumerated().map { .init(name: "file", fileName: "\($0.offset).jpg", contents: $0.element) })
        for contentType in ["multipart/form-data; boundary=\(MultipartBody.boundary)",
                            "multipart/form-data; boundary=\"\(MultipartBody.boundary)\""] {
            let harness = ServerHarness()
            try await harness.test { client in
                try await client.execute(uri: "/api/models/11/predict", method: .post,
                                         headers: [.contentType: contentType, .contentLength: "\(body.buffer.readableBytes)"],
                                         body: body.buffer) { response in
                    XCTAssertEqual(response.status, .ok, response.text)
                }
            }
            let received = await harness.service.predictedImages
            XCTAssertEqual(received.map(\.name), ["0.jpg", "1.jpg", "2.jpg"], contentType)
            XCTAssertEqual(received.map(\.contents), photos, contentType)
        }
    }

    func testAPostFromAnotherSiteIsRefusedAndOneFromThisSiteOrNoneIsNot() async throws {
        let harness = ServerHarness()
        let run = #"{"model": "knn"}"#
        try await harness.test { client in
            let foreign: [HTTPFields] = [[.origin: "http://evil.example"], [.referer: "http://evil.example/page"],
                                         [.origin: "null"], [.origin: "http://localhost:9999"]]
            for headers in foreign {
                try await client.execute(uri: "/api/datasets/1/runs", method: .post, headers: headers,
                                         body: jsonBody(run)) { response in
                    XCTAssertEqual(response.status, .forbidden, "\(headers)")
                    XCTAssertTrue(try response.errorMessage().contains("cross-site"), "\(headers)")
                }
            }
            // The test client sends Host: localhost; a page of this server sends that origin.
            for headers: HTTPFields in [[.origin: "http://localhost"], [.referer: "http://localhost/datasets/1"], [:]] {
                try await client.execute(uri: "/api/datasets/1/runs", method: .post, headers: headers,
                                         body: jsonBody(run)) { response in
                    XCTAssertEqual(response.status, .created, "\(headers)")
                }
            }
            try await client.execute(uri: "/api/datasets/1", method: .get, headers: [.origin: "http://evil.example"]) { response in
                XCTAssertEqual(response.status, .ok, "reading is not refused")
            }
        }
        let started = await harness.service.startedRuns
        XCTAssertEqual(started.count, 3)
    }

    func testSameOriginComparesHostAndPort() {
        XCTAssertTrue(SameOrigin.isSameOrigin("http://127.0.0.1:8080", host: "127.0.0.1:8080"))
        XCTAssertTrue(SameOrigin.isSameOrigin("https://Example.org", host: "example.org:443"))
        XCTAssertTrue(SameOrigin.isSameOrigin("http://[::1]:8080/x", host: "[::1]:8080"))
        XCTAssertFalse(SameOrigin.isSameOrigin("http://127.0.0.1:8081", host: "127.0.0.1:8080"))
        XCTAssertFalse(SameOrigin.isSameOrigin("http://127.0.0.1.evil.example:8080",
                                                                                     host: "127.0.0.1:8080"))
        XCTAssertFalse(SameOrigin.isSameOrigin("file:///x", host: "localhost"))
        XCTAssertFalse(SameOrigin.isSameOrigin("http://localhost", host: nil))
    }

    func testClientNamesAreReducedToDisplayNames() {
        XCTAssertEqual(UploadNames.displayName("../../etc/passwd"), "passwd")
        XCTAssertEqual(UploadNames.displayName("C:\\Users\\me\\cat.jpg"), "cat.jpg")
        XCTAssertEqual(UploadNames.displayName(".."), "upload")
        XCTAssertEqual(UploadNames.displayName("a\u{0}b\nc.png"), "abc.png")
        XCTAssertEqual(UploadNames.displayName(""), "upload")
        XCTAssertEqual(UploadNames.displayName("a\u{200B}b\u{7F}\u{FEFF}.jpg"), "ab.jpg", "format characters go too")
        XCTAssertEqual(UploadNames.displayName(" \t\u{3000}my cat.jpg\u{A0} "), "my cat.jpg", "surrounding spaces trimmed")
        XCTAssertEqual(UploadNames.displayName(" \u{2003} "), "upload")
        // Control characters are Foundation's `controlCharacters`, asked of each scalar instead (the oracle).
        for value in Array(0..<0x3000) + [0xFEFF, 0xFFF9, 0xE0001, 0x1D173] {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let name = "a\(Character(scalar))b"
            let expected = CharacterSet.controlCharacters.contains(scalar) ? "ab" : name
            // Around the name, whitespace is Foundation's `.whitespaces` (the oracle again).
            let padded = "\(Character(scalar))a.png\(Character(scalar))"
            let trimmed = padded.trimmingCharacters(in: .whitespaces)
            let paddedExpected = CharacterSet.controlCharacters.contains(scalar) ? "a.png" : trimmed
            if scalar != "/", scalar != "\\" {  // slashes cut the name: tested above
                XCTAssertEqual(UploadNames.displayName(name), expected, "U+\(String(value, radix: 16))")
                XCTAssertEqual(UploadNames.displayName(padded), paddedExpected, "U+\(String(value, radix: 16)) around")
            }
        }
        XCTAssertTrue(UploadNames.serverFileName(for: "x.tar.gz").hasSuffix(".tar.gz"))
        XCTAssertFalse(UploadNames.serverFileName(for: "x.j/p").contains("/"))
        XCTAssertEqual(UploadNames.dispositionParameters(#"form-data; name="file"; filename="a;b \"c\".zip""#),
                       ["name": "file", "filename": #"a;b "c".zip"#])
        XCTAssertEqual(UploadNames.dispositionParameters("form-data; NAME=plain"), ["name": "plain"])
    }

    func testOnlyANonLoopbackHostGetsTheExposureWarning() {
        let service = StubService()
        XCTAssertNil(PerceptWebApp(service: service).exposureWarning)
        XCTAssertNil(PerceptWebApp(service: service, host: "localhost").exposureWarning)
        XCTAssertNil(PerceptWebApp(service: service, host: "::1").exposureWarning)
        XCTAssertTrue(PerceptWebApp(service: service, host: "0.0.0.0").exposureWarning?.contains("0.0.0.0") ?? false)
    }
}
