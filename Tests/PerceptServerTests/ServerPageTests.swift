import Foundation
import Hummingbird
import HummingbirdTesting
import Percept
import XCTest
@testable import PerceptServer

/// The run event stream and the server-rendered pages.
final class ServerPageTests: XCTestCase {
    func testTheEventStreamPushesEachChangeAndEndsWithTheRun() async throws {
        try await ServerHarness().test { client in
            try await client.execute(uri: "/api/runs/7/events", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "text/event-stream")
                let events = response.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
                let runs = try events.map { event -> RunStatus in
                    XCTAssertTrue(event.hasPrefix("data: "), event)
                    return try JSONDecoder().decode(RunStatus.self, from: Data(event.dropFirst("data: ".count).utf8))
                }
                // queued, running (seen twice, sent once), succeeded: the stream ended with the run.
                XCTAssertEqual(runs.map(\.state), [.queued, .running, .succeeded])
                XCTAssertEqual(runs.last?.modelId, 11)
            }
            try await client.execute(uri: "/api/runs/999/events", method: .get) { response in
                XCTAssertEqual(response.status, .notFound)
            }
        }
    }

    func testHomeListsDatasetsAndRunsWithAnUploadForm() async throws {
        try await ServerHarness().test { client in
            try await client.execute(uri: "/", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "text/html; charset=utf-8")
                let html = response.text
                for expected in ["href=\"/datasets/1\">pets</a>", "id=\"upload-form\"", "type=\"file\" name=\"file\"",
                                 "href=\"/runs/7\"", "diverged", "/assets/percept.js"] {
                    XCTAssertTrue(html.contains(expected), expected)
                }
            }
        }
    }

    func testTheDatasetPageShowsTheChartWarningsProblemsAndEveryFamily() async throws {
        try await ServerHarness().test { client in
            try await client.execute(uri: "/datasets/1", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let html = response.text
                for expected in ["<svg", "Images per label", "few-images: dog has only 30 images", "dog/broken.jpg", "not a JPEG",
                                 "id=\"run-form\""] {
                    XCTAssertTrue(html.contains(expected), expected)
                }
                for family in ModelRegistry.families {
                    XCTAssertTrue(html.contains("<option value=\"\(family.name)\">"), family.name)
                    for parameter in family.parameters {
                        XCTAssertTrue(html.contains("name=\"\(parameter.name)\""), "\(family.name) \(parameter.name)")
                    }
                }
            }
            try await client.execute(uri: "/datasets/2", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertTrue(response.text.contains("data-watch-dataset=\"2\""))
                XCTAssertFalse(response.text.contains("id=\"run-form\""), "no training before the import is done")
            }
        }
    }

    func testTheRunAndModelPagesShowTheirState() async throws {
        try await ServerHarness().test { client in
            try await client.execute(uri: "/runs/8", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let html = response.text
                XCTAssertTrue(html.contains("data-run=\"8\" data-final=\"true\""))
                XCTAssertTrue(html.contains("diverged"))
            }
            try await client.execute(uri: "/runs/7", method: .get) { response in
                XCTAssertTrue(response.text.contains("data-final=\"false\""))
            }
            try await client.execute(uri: "/models/11", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let html = response.text
                for expected in ["75.0%", "Confusion matrix", "class=\"heatmap\"", "Per label", "id=\"predict-form\"",
                                 "/api/models/11/file", "multiple"] {
                    XCTAssertTrue(html.contains(expected), expected)
                }
            }
            try await client.execute(uri: "/models/5", method: .get) { response in
                XCTAssertEqual(response.status, .notFound)
            }
        }
    }

    func testNamesFromClientsAreEscapedInPages() async throws {
        let harness = ServerHarness()
        let body = MultipartBody(parts: [.init(name: "name", fileName: nil, contents: Data("<b>bold</b>".utf8)),
                                         .init(name: "file", fileName: "a.zip", contents: Data([1]))])
        try await harness.test { client in
            try await client.execute(uri: "/api/datasets", method: .post, headers: body.headers, body: body.buffer) { response in
                XCTAssertEqual(response.status, .created)
            }
            try await client.execute(uri: "/", method: .get) { response in
                XCTAssertTrue(response.text.contains("&lt;b&gt;bold&lt;/b&gt;"))
                XCTAssertFalse(response.text.contains("<b>bold</b>"))
            }
        }
    }

    func testTheAssetsAreServedFromTheBinary() async throws {
        try await ServerHarness().test { client in
            try await client.execute(uri: "/assets/percept.js", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertTrue(response.text.contains("new EventSource("))
            }
            try await client.execute(uri: "/assets/percept.css", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertTrue(response.text.contains("table.heatmap"))
            }
        }
    }
}
