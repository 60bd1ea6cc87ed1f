import Foundation
import XCTest

/// `percept serve` in a real browser: `Tests/Browser/webapp_flow.py` drives headless Chromium over the
/// DevTools protocol through the whole flow — upload a zip of the built-in dataset, see the label chart and
/// warnings, train k-NN and a small CNN while progress arrives, open the evaluation, predict a photo — and
/// keeps a screenshot of each page in `.build/webapp-screenshots/`.
final class WebAppBrowserTests: XCTestCase {
    func testTheWholeFlowInHeadlessChromium() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let script = root.appendingPathComponent("Tests/Browser/webapp_flow.py").path
        let screenshots = root.appendingPathComponent(".build/webapp-screenshots").path
        let run = try runProcess("/usr/bin/env", ["python3", script, try perceptBinary(), screenshots])
        if run.status == 127 { throw XCTSkip("python3 is not installed: the browser test needs it to drive Chromium") }
        if run.status == 77 { throw XCTSkip("the browser test cannot run here: \(run.stderr)") }
        XCTAssertEqual(run.status, 0, run.stderr + run.stdout)
        for page in ["1-home", "2-dataset", "3-run-knn", "3-run-cnn", "4-evaluation", "5-prediction"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(screenshots)/\(page).png"), "no screenshot of \(page)")
        }
    }
}
