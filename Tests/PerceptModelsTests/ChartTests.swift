import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
import PerceptEvaluation
import PerceptImage
import PerceptModels
@testable import PerceptReports

final class ChartTests: XCTestCase {
    /// Two metrics × three k × four folds, every setting with spread (so every point has a bar).
    private func result() throws -> CrossValidationResult {
        var settings: [CrossValidationResult.Setting] = []
        for (m, metric) in [DistanceMetric.l1, .l2].enumerated() {
            for (i, k) in [1, 5, 20].enumerated() {
                let base = 0.3 + 0.05 * Double(i) - 0.04 * Double(m)
                settings.append(.init(k: k, metric: metric, foldAccuracies: [base, base + 0.02, base - 0.03, base + 0.01]))
            }
        }
        return try CrossValidationResult(folds: 4, validationFraction: nil, seed: 0, itemCount: 100, settings: settings)
    }

    /// Counts elements by their `class` attribute; fails the parse on malformed XML.
    private final class Census: NSObject, XMLParserDelegate {
        var classes: [String: Int] = [:]
        var elements: [String: Int] = [:]
        var text = ""
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            elements[name, default: 0] += 1
            if let className = attributes["class"] { classes[className, default: 0] += 1 }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
    }

    private func parse(_ svg: String) throws -> Census {
        let parser = XMLParser(data: Data(svg.utf8))
        let census = Census()
        parser.delegate = census
        XCTAssertTrue(parser.parse(), "SVG is not well-formed XML: \(String(describing: parser.parserError))")
        return census
    }

    func testSVGIsWellFormedWithOneLinePerMetricAndEveryDotAndBar() throws {
        let census = try parse(LineChart(crossValidation: result()).svg())
        XCTAssertEqual(census.elements["svg"], 1)
        XCTAssertEqual(census.classes["mean"], 2)
        XCTAssertEqual(census.elements["polyline"], 2)
        XCTAssertEqual(census.classes["fold"], 2 * 3 * 4)
        XCTAssertEqual(census.classes["error-bar"], 2 * 3)
        XCTAssertEqual(census.classes["series"], 2)
        XCTAssertGreaterThan(census.classes["tick"] ?? 0, 4)
        XCTAssertTrue(census.text.contains("L1") && census.text.contains("L2"), "legend")
        XCTAssertTrue(census.text.contains("4-fold cross-validation"), "title")
    }

    func testLabelsAreEscaped() throws {
        let chart = LineChart(title: "cats & dogs <\"raw\"> 'pixels'", xLabel: "k < 10", yLabel: "accuracy",
                              series: [.init(name: "A&B", color: RGB(0, 0, 0),
                                             points: [.init(x: 1, samples: [0.5], mean: 0.5, spread: 0)])])
        let svg = chart.svg()
        XCTAssertTrue(svg.contains("cats &amp; dogs &lt;&quot;raw&quot;&gt;"), svg)
        let census = try parse(svg)
        XCTAssertTrue(census.text.contains("cats & dogs <\"raw\"> 'pixels'"))
        XCTAssertTrue(census.text.contains("A&B"))
        XCTAssertEqual(census.classes["error-bar"], nil, "no bar for zero spread")
    }

    func testPNGDecodesToTheChartSizeWithTheMeanLineDrawn() throws {
        let chart = LineChart(crossValidation: try result(), width: 600, height: 400)
        let decoded = try ImageDecoder().decode(try chart.pngData(), path: "chart.png").image
        XCTAssertEqual(decoded.size, ImageSize(width: 600, height: 400))
        XCTAssertEqual(decoded, chart.render(), "PNG round trip")
        let layout = ChartLayout(chart)
        let white: (UInt8, UInt8, UInt8) = (255, 255, 255)
        XCTAssertTrue(decoded[0, decoded.height - 1] == white, "corner is background")
        for series in chart.series {
            for (a, b) in zip(series.points, series.points.dropFirst()) {
                // Midway along each segment of the mean line.
                let x = Int(((layout.px(a.x) + layout.px(b.x)) / 2).rounded())
                let y = Int(((layout.py(a.mean) + layout.py(b.mean)) / 2).rounded())
                XCTAssertFalse(decoded[x, y] == white, "\(series.name) line at (\(x), \(y))")
            }
        }
    }

    func testTicksAreRound() {
        // Range 0.14 over ~6 ticks: a rough step of 0.028 rounds up to 0.05.
        let ticks = ChartLayout.ticks(0.27, 0.41, count: 6)
        XCTAssertEqual(ticks.count, 5)
        for (tick, expected) in zip(ticks, [0.25, 0.3, 0.35, 0.4, 0.45]) { XCTAssertEqual(tick, expected, accuracy: 1e-12) }
        XCTAssertEqual(ticks.map(ChartLayout.label), ["0.25", "0.3", "0.35", "0.4", "0.45"])
        XCTAssertEqual(ChartLayout.label(0.30000000000000004), "0.3")
        XCTAssertEqual(ChartLayout.label(20), "20")
    }
}
