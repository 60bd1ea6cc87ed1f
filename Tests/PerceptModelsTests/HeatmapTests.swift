import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
import PerceptCore
import PerceptImage
import PerceptModels
@testable import PerceptReports
import PerceptModelKit

final class HeatmapTests: XCTestCase {
    private func map() throws -> Heatmap {
        try Heatmap(title: "validation accuracy", rowTitle: "learning rate", columnTitle: "regularization",
                    rowLabels: ["1e-3", "1e-2"], columnLabels: ["1e-4", "1e-3", "1e-2"],
                    values: [[0.31, 0.35, nil], [0.40, 0.412, 0.38]], highlighted: [(1, 1)])
    }

    private final class Census: NSObject, XMLParserDelegate {
        var classes: [String: Int] = [:]
        var texts: [String] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if let className = attributes["class"] { classes[className, default: 0] += 1 }
            if name == "text" { texts.append("") }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { if !texts.isEmpty { texts[texts.count - 1] += string } }
    }

    func testSVGHasOneCellPerValueWithItsTextAndTitles() throws {
        let parser = XMLParser(data: Data(try map().svg().utf8))
        let census = Census()
        parser.delegate = census
        XCTAssertTrue(parser.parse())
        XCTAssertEqual(census.classes["cell"], 5, "the nil value is a blank cell")
        XCTAssertEqual(census.classes["highlight"], 1)
        for expected in ["31.0%", "41.2%", "38.0%", "learning rate", "regularization", "1e-2", "1e-4", "validation accuracy"] {
            XCTAssertTrue(census.texts.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.contains(expected), "missing text \(expected): \(census.texts)")
        }
    }

    func testPNGColoursGrowDarkerWithTheValue() throws {
        let heatmap = try map()
        let image = heatmap.render()
        let layout = Heatmap.Layout(heatmap)
        XCTAssertEqual(image.width, layout.width)
        XCTAssertEqual(image.height, layout.height)
        func brightness(_ row: Int, _ column: Int) -> Int {
            let (x, y) = layout.cell(row, column, heatmap)
            let pixel = image[x + 4, y + 4]  // inside the cell, clear of the text and outline
            return Int(pixel.r) + Int(pixel.g) + Int(pixel.b)
        }
        XCTAssertGreaterThan(brightness(0, 0), brightness(0, 1))   // 31% paler than 35%
        XCTAssertGreaterThan(brightness(0, 1), brightness(1, 0))   // 35% paler than 40%
        XCTAssertEqual(brightness(0, 2), 3 * 255, "blank cell")
        XCTAssertEqual(image[layout.cell(1, 1, heatmap).x + 2, layout.cell(1, 1, heatmap).y + 2].r, 214, "outline")
        XCTAssertEqual(Array(try heatmap.pngData().prefix(4)), [0x89, 0x50, 0x4E, 0x47])
    }

    func testConfusionMatrixStyleCountsAndShapeErrors() throws {
        let counts = try Heatmap(title: "confusion", rowTitle: "true", columnTitle: "predicted", rowLabels: ["cat", "dog"],
                                 columnLabels: ["cat", "dog"], values: [[8, 2], [1, 9]], format: .integer,
                                 range: 0...10, highlighted: [(0, 0), (1, 1)])
        XCTAssertEqual(counts.text(9), "9")
        XCTAssertEqual(counts.color(0), RGB(247, 251, 255))
        XCTAssertEqual(counts.color(10), RGB(8, 48, 107))
        XCTAssertEqual(try Heatmap(title: "", rowTitle: "", columnTitle: "", rowLabels: ["a"], columnLabels: ["b"],
                                   values: [[0.5]], format: .decimal(2)).text(0.456), "0.46")
        XCTAssertThrowsError(try Heatmap(title: "", rowTitle: "", columnTitle: "", rowLabels: ["a", "b"], columnLabels: ["c"],
                                         values: [[1]]))
    }

    func testTemplatesAreRescaledToTheFullByteRange() throws {
        // A 1×2×3 template from −1 to 3: −1 → 0, 3 → 255, 1 → 128 (rounded).
        let template = Tensor(shape: [1, 2, 3], scalars: [-1, 1, 3, 3, -1, 1])
        let image = try TemplateGrid.image(of: template)
        XCTAssertEqual(image.pixels, [0, 128, 255, 255, 0, 128])
        let grid = try TemplateGrid(scale: 4, columns: 2).render(templates: [template, template, template], labels: ["a", "b", "c"])
        XCTAssertGreaterThan(grid.height, 2 * 4)
        XCTAssertThrowsError(try TemplateGrid().render(templates: [template], labels: []))
        XCTAssertThrowsError(try TemplateGrid.image(of: Tensor(zeros: [2, 2])))
    }

    func testTrainingHistoryCharts() {
        var history = TrainingHistory()
        history.iterationLosses = [2.3, 2.1, 1.9, 1.8]
        history.epochs = [EpochRecord(epoch: 1, trainLoss: 2.2, trainAccuracy: 0.3, validationAccuracy: 0.28, learningRate: 0.1),
                          EpochRecord(epoch: 2, trainLoss: 1.85, trainAccuracy: 0.4, validationAccuracy: 0.35, learningRate: 0.1)]
        let loss = LineChart(lossHistory: history)
        XCTAssertEqual(loss.series.map(\.points.count), [4, 2])
        XCTAssertEqual(loss.series[1].points.map(\.x), [2, 4])
        let accuracy = LineChart(accuracyHistory: history)
        XCTAssertEqual(accuracy.series.map(\.name), ["train", "validation"])
        XCTAssertTrue(accuracy.svg().contains("validation"))
    }
}
