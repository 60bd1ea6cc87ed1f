import Foundation
import XCTest
import PerceptCore
@testable import PerceptData
import PerceptImage

final class ManifestLoaderTests: XCTestCase {
    func testAutoMLManifestWithSplitsQuotesAndBOM() throws {
        let folder = try TemporaryFolder()
        try folder.write("images/a1.png", try fixturePNG(label: 0, index: 1))
        try folder.write("images/a, with comma.png", try fixturePNG(label: 0, index: 2))
        try folder.write("images/b1.png", try fixturePNG(label: 1, index: 1))
        try folder.write("images/b2.png", try fixturePNG(label: 1, index: 2))
        let csv = "\u{FEFF}TRAIN,images/a1.png,apple\r\n"
            + "VALIDATION,\"images/a, with comma.png\",apple\r\n"
            + "TEST,images/b1.png,\"banana\"\r\n"
            + "UNASSIGNED,images/b2.png,banana\r\n"
        try folder.write("labels.csv", text: csv)
        let result = try DatasetLoader.load(folder.path + "/labels.csv")
        XCTAssertEqual(result.layout, .manifest)
        XCTAssertTrue(result.problems.isEmpty, "\(result.problems)")
        let dataset = result.dataset
        XCTAssertEqual(dataset.classNames, ["apple", "banana"])
        XCTAssertEqual(dataset.labels, [0, 0, 1, 1])
        XCTAssertEqual(dataset.splits, [.train, .validation, .test, .unassigned])
        XCTAssertEqual(dataset.image(at: 1), fixtureImage(label: 0, index: 2))
    }

    func testHeaderRowAndTwoColumnRows() throws {
        let folder = try TemporaryFolder()
        try folder.write("x.png", try fixturePNG(label: 0, index: 0))
        try folder.write("y.png", try fixturePNG(label: 1, index: 0))
        try folder.write("m.csv", text: "path,label\nx.png,cat\ny.png,dog\n")
        let result = try DatasetLoader.load(folder.path + "/m.csv")
        XCTAssertEqual(result.dataset.count, 2)
        XCTAssertEqual(result.dataset.classNames, ["cat", "dog"])
        XCTAssertEqual(result.dataset.splits, [.unassigned, .unassigned])
    }

    func testBadRowsAreNamedByRowAndTheRestLoads() throws {
        let folder = try TemporaryFolder()
        try folder.write("x.png", try fixturePNG(label: 0, index: 0))
        try folder.write("y.png", try fixturePNG(label: 1, index: 0))
        try folder.write("m.csv", text: "x.png,cat\nmissing.png,cat\ngs://bucket/z.jpg,dog\ny.png,\ny.png,dog\n")
        let result = try DatasetLoader.load(folder.path + "/m.csv")
        XCTAssertEqual(result.dataset.count, 2)
        let reasons = Dictionary(result.problems.map { ($0.path, $0.reason) }, uniquingKeysWith: { a, _ in a })
        XCTAssertTrue(reasons[folder.path + "/m.csv row 2"]?.contains("file not found") ?? false, "\(reasons)")
        XCTAssertTrue(reasons[folder.path + "/m.csv row 3"]?.contains("URL") ?? false, "\(reasons)")
        XCTAssertTrue(reasons[folder.path + "/m.csv row 4"]?.contains("no label") ?? false, "\(reasons)")
        XCTAssertThrowsError(try DatasetLoader.load(folder.path + "/m.csv", options: ImportOptions(strict: true))) {
            XCTAssertTrue("\($0)".contains("row 2"), "\($0)")
        }
    }

    func testAFolderHoldingOnlyImagesAndOneCSVIsAManifest() throws {
        let folder = try TemporaryFolder()
        try folder.write("pics/x.png", try fixturePNG(label: 0, index: 0))
        try folder.write("pics/y.png", try fixturePNG(label: 1, index: 0))
        try folder.write("pics/z.png", try fixturePNG(label: 1, index: 1))
        try folder.write("manifest.csv", text: "pics/x.png,cat\npics/y.png,dog\npics/z.png,dog\n")
        // "pics" holds images directly, but the CSV says what they are.
        let result = try DatasetLoader.load(folder.path)
        XCTAssertEqual(result.layout, .manifest)
        XCTAssertEqual(result.dataset.classCounts, [1, 2])
    }

    func testNormaliseRefusesToClimbOutOfTheArchive() {
        XCTAssertEqual(ManifestLoader.normalise(["a", ".", "b", "..", "c.png"]), "a/c.png")
        XCTAssertNil(ManifestLoader.normalise(["..", "etc", "passwd"]))
    }
}
