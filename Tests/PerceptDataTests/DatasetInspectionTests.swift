import Foundation
import XCTest
import PerceptCore
@testable import PerceptData
import PerceptImage

final class DatasetInspectionTests: XCTestCase {
    func testCountsSizesDuplicatesLeakageAndWarnings() throws {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, root: "train", labels: ["cat", "dog"], perClass: 3)
        try writeLabelFolders(folder, root: "test", labels: ["cat", "dog"], perClass: 1)
        // The same picture in train and test (leakage), saved as a byte-identical copy.
        try folder.write("test/cat/leak.png", try fixturePNG(label: 0, index: 2))
        // Many more cats than dogs, in a bigger size: imbalance, and a second image size.
        for index in 10..<20 {
            try folder.write("train/cat/big\(index).png", try fixturePNG(label: 0, index: index, width: 16, height: 16))
        }
        try folder.write("train/dog/bad.jpg", text: "nope")
        let inspection = try DatasetInspection.inspect(folder.path, modelInput: ImageSize(width: 8, height: 8))
        XCTAssertEqual(inspection.layout, "split-folders")
        XCTAssertEqual(inspection.imageCount, 19)
        XCTAssertEqual(inspection.classes.map(\.name), ["cat", "dog"])
        XCTAssertEqual(inspection.classes.map(\.count), [15, 4])
        XCTAssertEqual(inspection.classes[0].splits, ["train": 13, "test": 2])
        XCTAssertEqual(inspection.imageSizes, ["8x8": 9, "16x16": 10])
        XCTAssertEqual(inspection.colorModes.values.reduce(0, +), 19)
        XCTAssertEqual(inspection.problems.count, 1)
        XCTAssertTrue(inspection.problems[0].path.hasSuffix("bad.jpg"))
        // Identical files across splits: */cat/0.png, */dog/0.png (the fixtures repeat) and leak.png = train/cat/2.png.
        XCTAssertEqual(inspection.duplicateFiles.count, 3)
        XCTAssertTrue(inspection.duplicateFiles.allSatisfy { $0.splits == ["test", "train"] })
        XCTAssertTrue(inspection.duplicateFiles.contains { Set($0.paths.map { ($0 as NSString).lastPathComponent }) == ["2.png", "leak.png"] })
        XCTAssertTrue(inspection.duplicateImages.contains { $0.paths.contains { $0.hasSuffix("leak.png") } })
        let kinds = Set(inspection.warnings.map(\.kind))
        XCTAssertEqual(kinds, ["few-images", "imbalance", "leakage", "unreadable"])
        XCTAssertEqual(inspection.warnings.filter { $0.kind == "few-images" }.count, 2)
    }

    func testConflictingLabelsAndSmallImages() throws {
        let folder = try TemporaryFolder()
        let same = try fixturePNG(label: 3, index: 3, width: 4, height: 4)
        try folder.write("a/one.png", same)
        try folder.write("b/one-again.png", same)
        try folder.write("b/two.png", try fixturePNG(label: 1, index: 1, width: 4, height: 4))
        let inspection = try DatasetInspection.inspect(folder.path, modelInput: ImageSize(width: 32, height: 32))
        let kinds = Set(inspection.warnings.map(\.kind))
        XCTAssertTrue(kinds.contains("conflicting-labels"), "\(kinds)")
        XCTAssertTrue(kinds.contains("small-images"), "\(kinds)")
        XCTAssertFalse(kinds.contains("leakage"))
        XCTAssertEqual(inspection.duplicateImages.first?.labels, ["a", "b"])
    }

    func testInspectionEncodesAsJSON() throws {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, labels: ["a", "b"], perClass: 2)
        let data = try JSONEncoder().encode(try DatasetInspection.inspect(folder.path))
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        XCTAssertEqual(object?["imageCount"] as? Int, 4)
        XCTAssertNotNil(object?["warnings"] as? [Any])
    }

    func testLeakageIsFoundFromStoredPixelsAsTheSplitsStand() throws {
        let shapes = SyntheticShapes(imageSize: ImageSize(width: 8, height: 8), seed: 3)
        let images = [shapes.image(index: 0, label: 0), shapes.image(index: 1, label: 1), shapes.image(index: 0, label: 0)]
        var dataset = try Dataset(images: images, classNames: ["a", "b"], sources: ["x.png", "y.png", "x-copy.png"])
        XCTAssertNil(DatasetInspection.leakageWarning(in: dataset), "all unassigned: one split")
        dataset.splits = [.train, .test, .test]
        let warning = try XCTUnwrap(DatasetInspection.leakageWarning(in: dataset))
        XCTAssertEqual(warning.kind, "leakage")
        XCTAssertTrue(warning.message.contains("1 images appear in more than one split") && warning.message.contains("x.png"),
                      warning.message)
        dataset.splits = [.test, .train, .test]
        XCTAssertNil(DatasetInspection.leakageWarning(in: dataset), "the copies share a split")
    }
}
