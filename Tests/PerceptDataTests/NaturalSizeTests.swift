import XCTest
import PerceptCore
import PerceptData
import PerceptImage

/// Without an explicit size, small images keep their own size and photos larger than the model
/// family's default input are fitted to it (`ImportOptions.largestNaturalSize`).
final class NaturalSizeTests: XCTestCase {
    private func load(width: Int, height: Int, largest: ImageSize?) throws -> Dataset {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, labels: ["a", "b"], perClass: 3, width: width, height: height)
        var options = ImportOptions()
        options.largestNaturalSize = largest
        return try DatasetLoader.load(folder.path, options: options).dataset
    }

    func testImagesNoLargerThanTheDefaultKeepTheirSize() throws {
        let dataset = try load(width: 12, height: 10, largest: ImageSize(width: 16, height: 16))
        XCTAssertEqual([dataset.width, dataset.height], [12, 10])
        let exact = try load(width: 16, height: 16, largest: ImageSize(width: 16, height: 16))
        XCTAssertEqual([exact.width, exact.height], [16, 16])
    }

    func testLargerImagesAreFittedToTheDefault() throws {
        // Larger in one side only is enough: a 40×10 strip does not become a 40-pixel-wide row.
        for (width, height) in [(40, 30), (40, 10), (10, 40)] {
            let dataset = try load(width: width, height: height, largest: ImageSize(width: 16, height: 16))
            XCTAssertEqual([dataset.width, dataset.height], [16, 16], "\(width)x\(height)")
        }
    }

    func testWithoutADefaultTheFirstImageDecides() throws {
        let dataset = try load(width: 40, height: 30, largest: nil)
        XCTAssertEqual([dataset.width, dataset.height], [40, 30])
    }

    func testAnExplicitSizeWins() throws {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, labels: ["a", "b"], perClass: 2, width: 8, height: 8)
        var options = ImportOptions(imageSize: ImageSize(width: 24, height: 20))
        options.largestNaturalSize = ImageSize(width: 4, height: 4)
        let dataset = try DatasetLoader.load(folder.path, options: options).dataset
        XCTAssertEqual([dataset.width, dataset.height], [24, 20])
    }
}
