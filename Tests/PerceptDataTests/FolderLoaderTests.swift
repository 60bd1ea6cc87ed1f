import Foundation
import XCTest
import PerceptCore
@testable import PerceptData
import PerceptImage

final class FolderLoaderTests: XCTestCase {
    func testFolderPerLabelLoadsEveryImageWithItsLabel() throws {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, labels: ["cat", "dog", "bird"], perClass: 3)
        let result = try DatasetLoader.load(folder.path)
        let dataset = result.dataset
        XCTAssertEqual(result.layout, .folderPerLabel)
        XCTAssertEqual(dataset.classNames, ["bird", "cat", "dog"])  // sorted folder names
        XCTAssertEqual(dataset.count, 9)
        XCTAssertEqual(dataset.classCounts, [3, 3, 3])
        XCTAssertTrue(result.problems.isEmpty, "\(result.problems)")
        XCTAssertEqual(dataset.splits, Array(repeating: .unassigned, count: 9))
        // The pixels of each item are those of the file it came from (PNG is lossless).
        let originalLabel = ["cat": 0, "dog": 1, "bird": 2]
        for item in 0..<dataset.count {
            let source = dataset.sources[item]
            let name = dataset.classNames[Int(dataset.labels[item])]
            XCTAssertTrue(source.contains("/\(name)/"), source)
            let index = Int(((source as NSString).lastPathComponent as NSString).deletingPathExtension)!
            let expected = fixtureImage(label: originalLabel[name]!, index: index)
            XCTAssertEqual(dataset.image(at: item), expected, source)
        }
    }

    func testBadFilesAreNamedAndTheRestLoads() throws {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, labels: ["a", "b"], perClass: 2)
        try folder.write("a/anim.gif", Array("GIF89a\u{1}\u{0}\u{1}\u{0}".utf8))
        try folder.write("a/empty.jpg", [])
        try folder.write("b/notes.jpg", text: "this is not a picture")
        let png = try fixturePNG(label: 1, index: 9)
        try folder.write("b/cut.png", Array(png.prefix(png.count / 2)))
        try folder.write("loose.png", png)
        try folder.write("a/.DS_Store", [0, 1, 2])
        try folder.makeFolder("c")
        let result = try DatasetLoader.load(folder.path)
        XCTAssertEqual(result.dataset.count, 4)
        XCTAssertEqual(result.dataset.classNames, ["a", "b"])
        let byFile = Dictionary(result.problems.map { (($0.path as NSString).lastPathComponent, $0.reason) },
                                uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(Set(byFile.keys), ["anim.gif", "empty.jpg", "notes.jpg", "cut.png", "loose.png", "c"])
        XCTAssertTrue(byFile["anim.gif"]!.lowercased().contains("gif"), byFile["anim.gif"]!)
        XCTAssertTrue(byFile["empty.jpg"]!.lowercased().contains("empty"), byFile["empty.jpg"]!)
        XCTAssertTrue(byFile["c"]!.contains("empty label folder"))
        XCTAssertTrue(byFile["loose.png"]!.contains("not inside a label folder"))
    }

    func testStrictStopsAtTheFirstBadFile() throws {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, labels: ["a", "b"], perClass: 2)
        try folder.write("b/notes.jpg", text: "hello")
        XCTAssertThrowsError(try DatasetLoader.load(folder.path, options: ImportOptions(strict: true))) { error in
            XCTAssertTrue("\(error)".contains("notes.jpg"), "\(error)")
        }
    }

    func testOneClassIsAClearError() throws {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, labels: ["only"], perClass: 3)
        try folder.makeFolder("other")  // empty: does not count as a class
        XCTAssertThrowsError(try DatasetLoader.load(folder.path)) { error in
            XCTAssertEqual((error as? PerceptError)?.kind, .invalidData)
            XCTAssertTrue("\(error)".contains("at least two labels"), "\(error)")
        }
    }

    func testClassWhoseImagesAllFailIsDroppedAndReported() throws {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, labels: ["a", "b", "c"], perClass: 2)
        try FileManager.default.removeItem(atPath: folder.path + "/b")
        try folder.write("b/x.jpg", text: "broken")
        let result = try DatasetLoader.load(folder.path)
        XCTAssertEqual(result.dataset.classNames, ["a", "c"])
        XCTAssertEqual(result.dataset.labels.sorted(), [0, 0, 1, 1])
        XCTAssertTrue(result.problems.contains { $0.reason.contains("'b' has no readable images") })
    }

    func testSplitFoldersGiveSplitsAndTheUnionOfLabels() throws {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, root: "data/train", labels: ["x", "y"], perClass: 3)
        try writeLabelFolders(folder, root: "data/val", labels: ["x", "y"], perClass: 1)
        try writeLabelFolders(folder, root: "data/test", labels: ["x", "y", "z"], perClass: 2)
        let result = try DatasetLoader.load(folder.path)  // the single wrapper folder "data" is looked into
        XCTAssertEqual(result.layout, .splitFolders)
        let dataset = result.dataset
        XCTAssertEqual(dataset.classNames, ["x", "y", "z"])
        XCTAssertEqual(dataset.splits.filter { $0 == .train }.count, 6)
        XCTAssertEqual(dataset.splits.filter { $0 == .validation }.count, 2)
        XCTAssertEqual(dataset.splits.filter { $0 == .test }.count, 6)
        for (source, split) in zip(dataset.sources, dataset.splits) {
            let folderName = ["train": Split.train, "val": .validation, "test": .test]
            XCTAssertEqual(folderName.first { source.contains("/data/\($0.key)/") }?.value, split, source)
        }
    }

    func testImagesOfOtherSizesAreFittedToTheRequestedSize() throws {
        let folder = try TemporaryFolder()
        try folder.write("a/big.png", try fixturePNG(label: 0, index: 0, width: 16, height: 12))
        try folder.write("a/small.png", try fixturePNG(label: 0, index: 1, width: 4, height: 4))
        try folder.write("b/one.png", try fixturePNG(label: 1, index: 0, width: 8, height: 8))
        let result = try DatasetLoader.load(folder.path, options: ImportOptions(imageSize: ImageSize(width: 6, height: 6)))
        XCTAssertEqual(result.dataset.imageSize, ImageSize(width: 6, height: 6))
        // Flat colours stay flat through any resize.
        XCTAssertEqual(result.dataset.image(at: 0), Image(width: 6, height: 6, fill: (10, 5, 200)))
    }

    func testNonUTF8FileNameIsReportedNotFatal() throws {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, labels: ["a", "b"], perClass: 2)
        // "caf\xE9.png": Latin-1 é, not UTF-8.
        var name = Array((folder.path + "/a/caf").utf8)
        name += [0xE9] + Array(".png".utf8) + [0]
        let png = try fixturePNG(label: 0, index: 7)
        let fd = name.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY, 0o644) }
        XCTAssertGreaterThanOrEqual(fd, 0)
        _ = png.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let result = try DatasetLoader.load(folder.path)
        XCTAssertEqual(result.dataset.count, 4)
        XCTAssertTrue(result.problems.contains { $0.reason.contains("not valid UTF-8") }, "\(result.problems)")
    }

    func testMissingPathAndSingleImageAreClearErrors() throws {
        XCTAssertThrowsError(try DatasetLoader.load("/no/such/percept/folder")) { error in
            XCTAssertTrue("\(error)".contains("/no/such/percept/folder"))
        }
        let folder = try TemporaryFolder()
        let path = try folder.write("one.png", try fixturePNG(label: 0, index: 0))
        XCTAssertThrowsError(try DatasetLoader.load(path)) { error in
            XCTAssertTrue("\(error)".contains("single image"), "\(error)")
        }
    }
}
