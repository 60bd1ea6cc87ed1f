import Foundation
import Hummingbird
import HummingbirdTesting
import Percept
import XCTest
@testable import PerceptServer

/// The routes and page parts behind the dataset page's split and thumbnails, the run page's curve
/// and resume, and the model page's per-image views, against the stand-in service.
final class ServerDetailRoutesTests: XCTestCase {
    func testTheSplitIsChangedByJSONAndABadPlanIsRefusedWithItsReason() async throws {
        let harness = ServerHarness()
        try await harness.test { client in
            try await client.execute(uri: "/api/datasets/1/split", method: .post, headers: [.contentType: "application/json"],
                                     body: jsonBody(#"{"train": 70, "validation": 15, "test": 15, "seed": 4}"#)) { response in
                XCTAssertEqual(response.status, .ok, response.text)
                let dataset = try response.object()
                XCTAssertEqual((dataset["splitPlan"] as? [String: Any])?["train"] as? Int, 70)
                XCTAssertEqual((dataset["splitCounts"] as? [String: Int])?["test"], 130 * 15 / 100)
            }
            try await client.execute(uri: "/api/datasets/1/split", method: .post, headers: [.contentType: "application/json"],
                                     body: jsonBody(#"{"train": 70, "validation": 20, "test": 20, "seed": 0}"#)) { response in
                XCTAssertEqual(response.status, .badRequest)
                XCTAssertTrue(try response.errorMessage().contains("add up to 100"), response.text)
            }
            try await client.execute(uri: "/api/datasets/1/split", method: .post, headers: [.contentType: "application/json"],
                                     body: jsonBody(#"{"train": 90, "validation": 10, "test": 0, "seed": 0}"#)) { response in
                XCTAssertEqual(response.status, .badRequest)
                XCTAssertTrue(try response.errorMessage().contains("test share"), response.text)
            }
            try await client.execute(uri: "/api/datasets/1/split", method: .post, headers: [.contentType: "application/json"],
                                     body: jsonBody(#"{"train": "most"}"#)) { response in
                XCTAssertEqual(response.status, .badRequest)
            }
            try await client.execute(uri: "/api/datasets/2/split", method: .post, headers: [.contentType: "application/json"],
                                     body: jsonBody(#"{"train": 80, "validation": 10, "test": 10, "seed": 0}"#)) { response in
                XCTAssertEqual(response.status, .conflict, "a dataset still importing has no split yet")
            }
            // From another site's page: refused before the service sees it.
            try await client.execute(uri: "/api/datasets/1/split", method: .post,
                                     headers: [.contentType: "application/json", .origin: "http://evil.example"],
                                     body: jsonBody(#"{"train": 60, "validation": 20, "test": 20, "seed": 0}"#)) { response in
                XCTAssertEqual(response.status, .forbidden)
            }
        }
        let plans = await harness.service.splitPlans
        XCTAssertEqual(plans, [SplitPlan(train: 70, validation: 15, test: 15, seed: 4)])
    }

    func testThumbnailsAndImagesAreServedByNumberOnly() async throws {
        try await ServerHarness().test { client in
            try await client.execute(uri: "/api/datasets/1/thumbnails?perLabel=1", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let groups = try JSONDecoder().decode([ThumbnailGroup].self, from: Data(response.body.readableBytesView))
                XCTAssertEqual(groups, [ThumbnailGroup(label: "cat", indices: [0]), ThumbnailGroup(label: "dog", indices: [2])])
            }
            try await client.execute(uri: "/api/datasets/1/thumbnails?perLabel=0", method: .get) { response in
                XCTAssertEqual(response.status, .badRequest)
            }
            try await client.execute(uri: "/api/datasets/1/images/2", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "image/png")
                let decoded = try ImageDecoder().decode(Array(response.body.readableBytesView), path: "image 2")
                XCTAssertEqual(decoded.image.width, 2)
                XCTAssertEqual(decoded.image.pixels.first, 2, "the image asked for")
            }
            for path in ["/api/datasets/1/images/3", "/api/datasets/1/images/-1", "/api/datasets/1/images/..%2F..%2Fetc%2Fpasswd",
                         "/api/datasets/1/images/cat.png", "/api/datasets/9/images/0"] {
                try await client.execute(uri: path, method: .get) { response in
                    XCTAssertEqual(response.status, .notFound, path)
                    XCTAssertNotNil(try? response.errorMessage(), path)
                }
            }
            try await client.execute(uri: "/api/datasets/2/images/0", method: .get) { response in
                XCTAssertEqual(response.status, .conflict)
            }
        }
    }

    func testTheDatasetPageShowsTheSplitFormAndAThumbnailPerImage() async throws {
        try await ServerHarness().test { client in
            try await client.execute(uri: "/datasets/1", method: .get) { response in
                let html = response.text
                for expected in ["id=\"split-form\"", "name=\"validation\" value=\"10\"", "name=\"seed\" value=\"0\"",
                                 "id=\"thumbnails\"", "src=\"/api/datasets/1/images/0\"", "src=\"/api/datasets/1/images/1\"",
                                 "src=\"/api/datasets/1/images/2\"", "<h3>dog</h3>"] {
                    XCTAssertTrue(html.contains(expected), expected)
                }
            }
            try await client.execute(uri: "/datasets/2", method: .get) { response in
                XCTAssertFalse(response.text.contains("id=\"split-form\""), "no split before the import is done")
                XCTAssertFalse(response.text.contains("id=\"thumbnails\""))
            }
        }
    }

    func testAnInterruptedRunOffersResumeAndResumeQueuesIt() async throws {
        let harness = ServerHarness()
        try await harness.test { client in
            try await client.execute(uri: "/runs/9", method: .get) { response in
                let html = response.text
                XCTAssertTrue(html.contains("class=\"run-resume\""), "the Resume button is shown, not hidden")
                XCTAssertTrue(html.contains("900 images/s · about 20 s left"), "speed and ETA from the last line")
                XCTAssertTrue(html.contains("class=\"run-curve\""))
                // The curve's points travel in the page for the script to draw.
                XCTAssertTrue(html.contains("&quot;validationAccuracy&quot;:0.35"), html)
            }
            try await client.execute(uri: "/runs/8", method: .get) { response in
                XCTAssertTrue(response.text.contains("class=\"run-resume hidden\""), "a failed run is not resumed")
            }
            try await client.execute(uri: "/api/runs/8/resume", method: .post) { response in
                XCTAssertEqual(response.status, .conflict)
            }
            try await client.execute(uri: "/api/runs/9/resume", method: .post) { response in
                XCTAssertEqual(response.status, .ok, response.text)
                XCTAssertEqual(try response.object()["state"] as? String, "queued")
            }
            try await client.execute(uri: "/api/runs/404/resume", method: .post) { response in
                XCTAssertEqual(response.status, .notFound)
            }
        }
        let resumed = await harness.service.resumedRuns
        XCTAssertEqual(resumed, [9])
    }

    func testTheModelPageHasTheThresholdTheCurvesAndTheReport() async throws {
        try await ServerHarness().test { client in
            try await client.execute(uri: "/models/11", method: .get) { response in
                let html = response.text
                // At 0.5 every prediction counts: 3 of 4 right.
                for expected in ["id=\"test-predictions\"", "data-predictions=", "class=\"threshold\"",
                                 "<dd class=\"threshold-precision\">75.0%</dd>", "<dd class=\"threshold-recall\">75.0%</dd>",
                                 "4 of 4", "Precision–recall per label", "average precision", "/api/models/11/report.html"] {
                    XCTAssertTrue(html.contains(expected), expected)
                }
            }
            try await client.execute(uri: "/api/models/11/predictions", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                let predictions = try JSONDecoder().decode(TestPredictions.self, from: Data(response.body.readableBytesView))
                XCTAssertEqual(predictions.items.count, 4)
            }
            try await client.execute(uri: "/api/models/11/report.html", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentDisposition], "attachment; filename=\"model-11-report.html\"")
                XCTAssertTrue(response.text.contains("stub report"))
            }
            try await client.execute(uri: "/api/models/12/report.html", method: .get) { response in
                XCTAssertEqual(response.status, .notFound)
            }
        }
    }
}

/// The numbers behind the model page's slider and curves, and the run page's progress lines.
final class ServerMetricsTests: XCTestCase {
    func testPrecisionRecallCurveKnownAnswer() {
        // Ranked 0.9 (yes), 0.8 (no), 0.7 (yes), 0.6 (no).
        let curve = PrecisionRecallCurve(scores: [0.6, 0.9, 0.7, 0.8], positives: [false, true, true, false])
        XCTAssertEqual(curve.points.map(\.recall), [0.5, 0.5, 1, 1])
        XCTAssertEqual(curve.points.map(\.precision), [1, 0.5, 2.0 / 3, 0.5])
        XCTAssertEqual(curve.averagePrecision, 0.5 * 1 + 0.5 * 2.0 / 3, accuracy: 1e-12)
        // Tied scores are one step, and a label no image has has no curve.
        let tied = PrecisionRecallCurve(scores: [0.5, 0.5], positives: [true, false])
        XCTAssertEqual(tied.points, [.init(threshold: 0.5, recall: 1, precision: 0.5)])
        XCTAssertTrue(PrecisionRecallCurve(scores: [0.3], positives: [false]).points.isEmpty)
    }

    func testThresholdMetricsCountOnlyConfidentPredictions() async throws {
        let items = try await StubService().testPredictions(modelId: 11).items
        let low = ThresholdMetrics(threshold: 0.5, items: items)
        XCTAssertEqual(low.counted, 4)
        XCTAssertEqual(low.precision, 0.75)
        XCTAssertEqual(low.recall, 0.75)
        let high = ThresholdMetrics(threshold: 0.7, items: items)
        XCTAssertEqual(high.counted, 2)
        XCTAssertEqual(high.precision, 1)
        XCTAssertEqual(high.recall, 0.5)
        XCTAssertNil(ThresholdMetrics(threshold: 0.95, items: items).precision, "nothing counted: precision undefined")
    }

    func testProgressLinesGiveEpochPointsSpeedAndETA() throws {
        let line = "epoch 3/10 step 4/4  loss 1.234  acc 45.0%  1234 img/s  ETA 12 s  val 40.0%"
        let parsed = try XCTUnwrap(ProgressLine(line))
        XCTAssertEqual(parsed.imagesPerSecond, 1234)
        XCTAssertEqual(parsed.secondsRemaining, 12)
        XCTAssertEqual(parsed.epochEnd, EpochPoint(epoch: 3, loss: 1.234, accuracy: 0.45, validationAccuracy: 0.4))
        XCTAssertNil(ProgressLine("epoch 3/10 step 2/4  loss 1.3  acc 40.0%  1000 img/s  ETA 15 s")?.epochEnd, "mid-epoch")
        XCTAssertNil(ProgressLine("setting 2/4"))
        let curve = [EpochPoint(epoch: 1, loss: 2, accuracy: nil, validationAccuracy: nil),
                     EpochPoint(epoch: 2, loss: 1.5, accuracy: nil, validationAccuracy: nil),
                     EpochPoint(epoch: 3, loss: 1.2, accuracy: nil, validationAccuracy: nil)]
        // A resumed run repeats epoch 2: its new point replaces the old and what came after.
        let resumed = ProgressLine.adding(EpochPoint(epoch: 2, loss: 1.4, accuracy: nil, validationAccuracy: nil), to: curve)
        XCTAssertEqual(resumed.map(\.epoch), [1, 2])
        XCTAssertEqual(resumed.last?.loss, 1.4)
    }

    func testSplitPlansOutsideTheRulesAreRefused() {
        XCTAssertNoThrow(try SplitPlan.standard.checked())
        XCTAssertNoThrow(try SplitPlan(train: 60, validation: 20, test: 20, seed: 9).checked())
        for plan in [SplitPlan(train: 80, validation: 10, test: 11, seed: 0), SplitPlan(train: 90, validation: 10, test: 0, seed: 0),
                     SplitPlan(train: 99, validation: 1, test: 0, seed: 0), SplitPlan(train: -10, validation: 60, test: 50, seed: 0)] {
            XCTAssertThrowsError(try plan.checked(), plan.summary)
        }
    }
}
