import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import PerceptServer

/// `POST /api/datasets` with images one by one (a label per file, or label/file names) and with a
/// server folder, against the stand-in service; refused uploads leave nothing behind.
final class ServerLabelledUploadTests: XCTestCase {
    func testEachFileGetsTheLabelSentAfterIt() async throws {
        let harness = ServerHarness()
        let body = MultipartBody(parts: [
            .init(name: "name", fileName: nil, contents: Data("pets".utf8)),
            .init(name: "file", fileName: "a.jpg", contents: Data("A".utf8)),
            .init(name: "label", fileName: nil, contents: Data("cat".utf8)),
            .init(name: "file", fileName: "b.jpg", contents: Data("B".utf8)),
            .init(name: "label", fileName: nil, contents: Data("dog".utf8)),
            .init(name: "file", fileName: "c.jpg", contents: Data("C".utf8)),
            .init(name: "label", fileName: nil, contents: Data(" cat ".utf8)),
        ])
        try await harness.test { client in
            try await client.execute(uri: "/api/datasets", method: .post, headers: body.headers, body: body.buffer) { response in
                XCTAssertEqual(response.status, .created, response.text)
            }
        }
        let uploads = await harness.service.labelledUploads
        XCTAssertEqual(uploads.map(\.name), ["pets"])
        XCTAssertEqual(uploads.first?.files.map(\.label), ["cat", "dog", "cat"])
        XCTAssertEqual(uploads.first?.files.map(\.displayName), ["a.jpg", "b.jpg", "c.jpg"])
        XCTAssertEqual(uploads.first?.files.map(\.contents), [Data("A".utf8), Data("B".utf8), Data("C".utf8)])
    }

    func testFileNamesWithAFolderGiveTheLabel() async throws {
        let harness = ServerHarness()
        let body = MultipartBody(parts: [
            .init(name: "file", fileName: "cat/1.jpg", contents: Data("1".utf8)),
            .init(name: "file", fileName: "photos/dog/2.jpg", contents: Data("2".utf8)),
        ])
        try await harness.test { client in
            try await client.execute(uri: "/api/datasets", method: .post, headers: body.headers, body: body.buffer) { response in
                XCTAssertEqual(response.status, .created, response.text)
            }
        }
        let uploads = await harness.service.labelledUploads
        XCTAssertEqual(uploads.first?.files.map(\.label), ["cat", "dog"])
        XCTAssertEqual(uploads.first?.files.map(\.displayName), ["1.jpg", "2.jpg"], "no folder in the shown name")
    }

    func testFilesWithoutLabelsOrWithBadLabelsAreRefusedAndNothingIsKept() async throws {
        let harness = ServerHarness()
        let cases: [(MultipartBody, String)] = [
            (MultipartBody(parts: [.init(name: "file", fileName: "a.jpg", contents: Data("A".utf8)),
                                   .init(name: "file", fileName: "b.jpg", contents: Data("B".utf8))]), "has no label"),
            (MultipartBody(parts: [.init(name: "file", fileName: "a.jpg", contents: Data("A".utf8)),
                                   .init(name: "label", fileName: nil, contents: Data("cat".utf8)),
                                   .init(name: "file", fileName: "b.jpg", contents: Data("B".utf8))]), "one 'label' per file"),
            (MultipartBody(parts: [.init(name: "file", fileName: "a.jpg", contents: Data("A".utf8)),
                                   .init(name: "label", fileName: nil, contents: Data("../../etc".utf8)),
                                   .init(name: "file", fileName: "b.jpg", contents: Data("B".utf8)),
                                   .init(name: "label", fileName: nil, contents: Data("dog".utf8))]), "cannot be used"),
        ]
        try await harness.test { client in
            for (body, expected) in cases {
                try await client.execute(uri: "/api/datasets", method: .post, headers: body.headers, body: body.buffer) { response in
                    XCTAssertEqual(response.status, .badRequest, response.text)
                    XCTAssertTrue(try response.errorMessage().contains(expected), "\(expected): \(response.text)")
                }
            }
        }
        let uploads = await harness.service.labelledUploads
        XCTAssertTrue(uploads.isEmpty)
        XCTAssertEqual(harness.filesLeft(), [], "a refused upload keeps no file")
    }

    func testAFolderOnTheServerIsPassedOnAndARelativePathRefused() async throws {
        let harness = ServerHarness()
        let good = MultipartBody(parts: [.init(name: "folder", fileName: nil, contents: Data("/srv/photos".utf8))])
        let relative = MultipartBody(parts: [.init(name: "folder", fileName: nil, contents: Data("photos".utf8))])
        let both = MultipartBody(parts: [.init(name: "folder", fileName: nil, contents: Data("/srv/photos".utf8)),
                                         .init(name: "file", fileName: "a.zip", contents: Data([1]))])
        try await harness.test { client in
            try await client.execute(uri: "/api/datasets", method: .post, headers: good.headers, body: good.buffer) { response in
                XCTAssertEqual(response.status, .created, response.text)
            }
            try await client.execute(uri: "/api/datasets", method: .post, headers: relative.headers, body: relative.buffer) { response in
                XCTAssertEqual(response.status, .badRequest)
            }
            try await client.execute(uri: "/api/datasets", method: .post, headers: both.headers, body: both.buffer) { response in
                XCTAssertEqual(response.status, .badRequest)
            }
        }
        let imports = await harness.service.folderImports
        XCTAssertEqual(imports.map(\.folder), ["/srv/photos"])
        XCTAssertEqual(harness.filesLeft(), [])
    }

    func testAServerOnTheNetworkRefusesFolderImports() async throws {
        let service = StubService()
        let app = PerceptWebApp(service: service, host: "0.0.0.0", uploadDirectory: FileManager.default.temporaryDirectory
            .appendingPathComponent("percept-test-uploads-\(UUID().uuidString)"))
        let body = MultipartBody(parts: [.init(name: "folder", fileName: nil, contents: Data("/etc".utf8))])
        try await Application(router: app.buildRouter()).test(.router) { client in
            try await client.execute(uri: "/api/datasets", method: .post, headers: body.headers, body: body.buffer) { response in
                XCTAssertEqual(response.status, .forbidden)
                XCTAssertTrue(try response.errorMessage().contains("loopback"), response.text)
            }
        }
        let imports = await service.folderImports
        XCTAssertTrue(imports.isEmpty)
    }

    func testTheHomePageHasTheDropZoneAndTheFolderForm() async throws {
        try await ServerHarness().test { client in
            try await client.execute(uri: "/", method: .get) { response in
                for expected in ["id=\"drop-form\"", "class=\"drop-zone\"", "id=\"folder-form\"", "name=\"folder\""] {
                    XCTAssertTrue(response.text.contains(expected), expected)
                }
            }
        }
    }
}
