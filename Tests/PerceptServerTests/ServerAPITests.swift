import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest
@testable import PerceptServer

/// The JSON API's documents and its error statuses, against the stand-in service.
final class ServerAPITests: XCTestCase {
    func testDatasetListAndStatusHaveTheDocumentedFields() async throws {
        try await ServerHarness().test { client in
            try await client.execute(uri: "/api/datasets", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let list = try XCTUnwrap(response.json() as? [[String: Any]])
                XCTAssertEqual(list.map { $0["name"] as? String }, ["pets", "arriving"])
            }
            try await client.execute(uri: "/api/datasets/1", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "application/json; charset=utf-8")
                let dataset = try response.object()
                XCTAssertEqual(dataset["id"] as? Int, 1)
                XCTAssertEqual(dataset["state"] as? String, "ready")
                XCTAssertEqual(dataset["imageCount"] as? Int, 130)
                let classes = try XCTUnwrap(dataset["classes"] as? [[String: Any]])
                XCTAssertEqual(classes.first?["name"] as? String, "cat")
                XCTAssertEqual(classes.first?["count"] as? Int, 100)
                XCTAssertEqual((dataset["warnings"] as? [[String: Any]])?.first?["kind"] as? String, "few-images")
                XCTAssertEqual((dataset["problems"] as? [[String: Any]])?.first?["reason"] as? String, "not a JPEG")
            }
        }
    }

    func testUnknownThingsAnswer404AsJSON() async throws {
        try await ServerHarness().test { client in
            for uri in ["/api/datasets/999", "/api/datasets/abc", "/api/runs/999", "/api/models/5/evaluation",
                        "/api/models/5/file", "/api/no/such/route", "/no-such-page"] {
                try await client.execute(uri: uri, method: .get) { response in
                    XCTAssertEqual(response.status, .notFound, uri)
                    XCTAssertFalse(try response.errorMessage().isEmpty, uri)
                }
            }
        }
    }

    func testStartingARunPassesStringAndNumberOptionsAsText() async throws {
        let harness = ServerHarness()
        try await harness.test { client in
            let body = #"{"model": "knn", "options": {"k": 5, "metric": "l1", "lr": 0.001, "augment": true}}"#
            try await client.execute(uri: "/api/datasets/1/runs", method: .post, body: jsonBody(body)) { response in
                XCTAssertEqual(response.status, .created)
                XCTAssertEqual(try response.object()["id"] as? Int, 50)
            }
        }
        let started = await harness.service.startedRuns
        XCTAssertEqual(started.count, 1)
        XCTAssertEqual(started.first?.model, "knn")
        XCTAssertEqual(started.first?.options, ["k": "5", "metric": "l1", "lr": "0.001", "augment": "true"])
    }

    func testBadRunRequestsGetFittingStatuses() async throws {
        try await ServerHarness().test { client in
            let cases: [(uri: String, body: String, status: HTTPResponse.Status)] = [
                ("/api/datasets/1/runs", "{not json", .badRequest),
                ("/api/datasets/1/runs", #"{"options": {}}"#, .badRequest),
                ("/api/datasets/1/runs", #"{"model": "knn", "options": {"k": [1]}}"#, .badRequest),
                ("/api/datasets/1/runs", #"{"model": "no-such-family"}"#, .badRequest),
                ("/api/datasets/2/runs", #"{"model": "knn"}"#, .conflict),
                ("/api/datasets/999/runs", #"{"model": "knn"}"#, .notFound),
            ]
            for item in cases {
                try await client.execute(uri: item.uri, method: .post, body: jsonBody(item.body)) { response in
                    XCTAssertEqual(response.status, item.status, item.body)
                    XCTAssertFalse(try response.errorMessage().isEmpty, item.body)
                }
            }
        }
    }

    func testRunsAnswerTheirStatusAndAFinishedOneCannotBeCancelled() async throws {
        try await ServerHarness().test { client in
            try await client.execute(uri: "/api/runs/8", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let run = try response.object()
                XCTAssertEqual(run["state"] as? String, "failed")
                XCTAssertEqual(run["error"] as? String, "diverged")
                XCTAssertEqual(run["model"] as? String, "softmax")
            }
            try await client.execute(uri: "/api/runs", method: .get) { response in
                XCTAssertEqual((try response.json() as? [[String: Any]])?.compactMap { $0["id"] as? Int }, [7, 8, 9])
            }
            try await client.execute(uri: "/api/runs/8/cancel", method: .post) { response in
                XCTAssertEqual(response.status, .conflict)
                XCTAssertTrue(try response.errorMessage().contains("ended"))
            }
            try await client.execute(uri: "/api/runs/7/cancel", method: .post) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertNotNil(try response.object()["state"] as? String)
            }
        }
    }

    func testEvaluationIsTheDocumentEvaluateJSONPrints() async throws {
        try await ServerHarness().test { client in
            try await client.execute(uri: "/api/models/11/evaluation", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let document = try response.object()
                XCTAssertEqual(document["split"] as? String, "test")
                let evaluation = try XCTUnwrap(document["evaluation"] as? [String: Any])
                XCTAssertEqual(try XCTUnwrap(evaluation["accuracy"] as? Double), 0.75, accuracy: 1e-12)
                XCTAssertEqual(evaluation["images"] as? Int, 4)
                // The CLI's encoder: pretty-printed with sorted keys.
                let text = response.text
                XCTAssertTrue(text.contains("\n  \"evaluation\""), text)
                let keys = ["\"evaluation\"", "\"files\"", "\"split\""].compactMap { text.range(of: $0)?.lowerBound }
                XCTAssertEqual(keys, keys.sorted())
                XCTAssertEqual(keys.count, 3)
            }
        }
    }

    func testModelFileDownloadsItsBytes() async throws {
        try await ServerHarness().test { client in
            try await client.execute(uri: "/api/models/11/file", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(Data(response.body.readableBytesView), StubService.modelBytes)
                XCTAssertEqual(response.headers[.contentDisposition], "attachment; filename=\"model-11.percept\"")
            }
        }
    }
}
