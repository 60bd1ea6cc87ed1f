import Foundation
import XCTest
import PerceptCore
@testable import PerceptData
import PerceptImage

/// Symbolic links in a dataset folder: followed once, never in a loop, out of the folder only
/// when asked; and files that cannot be read say what failed.
final class SymbolicLinkTests: XCTestCase {
    private func link(_ folder: TemporaryFolder, _ relative: String, to destination: String) throws {
        try FileManager.default.createSymbolicLink(atPath: "\(folder.path)/\(relative)", withDestinationPath: destination)
    }

    private func problems(_ result: LoadResult, endingWith suffix: String) -> [LoadProblem] {
        result.problems.filter { $0.path.hasSuffix(suffix) }
    }

    func testLinkBackToTheParentIsReportedOnceAndNothingIsCountedTwice() throws {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, labels: ["cats", "dogs"], perClass: 3)
        try link(folder, "cats/loop", to: "..")
        try link(folder, "dogs/self", to: ".")
        let result = try DatasetLoader.load(folder.path)
        XCTAssertEqual(result.dataset.classNames, ["cats", "dogs"])
        XCTAssertEqual(result.dataset.classCounts, [3, 3])
        XCTAssertEqual(Set(result.dataset.sources).count, 6)
        for name in ["cats/loop", "dogs/self"] {
            let reported = problems(result, endingWith: name)
            XCTAssertEqual(reported.count, 1, "\(result.problems)")
            XCTAssertTrue(reported.first?.reason.contains("loop") == true, "\(reported)")
            XCTAssertTrue(reported.first?.reason.contains("skipped") == true, "\(reported)")
        }
        XCTAssertEqual(result.problems.count, 2, "\(result.problems)")
    }

    func testFolderLinksLeavingTheRootAreFollowedOnlyWhenAsked() throws {
        let outside = try TemporaryFolder()
        try writeLabelFolders(outside, labels: ["extra"], perClass: 2)
        try outside.write("solo.png", try fixturePNG(label: 1, index: 7))
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, labels: ["cats", "dogs"], perClass: 3)
        try link(folder, "cats/more", to: "\(outside.path)/extra")
        // A link to one file outside can neither loop nor multiply: followed, as Keras does.
        try link(folder, "dogs/far.png", to: "\(outside.path)/solo.png")

        let contained = try DatasetLoader.load(folder.path)
        XCTAssertEqual(contained.dataset.classCounts, [3, 4])
        XCTAssertTrue(contained.dataset.sources.contains("\(folder.path)/dogs/far.png"))
        let reported = problems(contained, endingWith: "cats/more")
        XCTAssertEqual(reported.count, 1, "\(contained.problems)")
        XCTAssertTrue(reported.first?.reason.contains("outside the dataset folder") == true, "\(reported)")
        XCTAssertTrue(reported.first?.reason.contains("--follow-links") == true, "\(reported)")
        XCTAssertEqual(contained.problems.count, 1, "\(contained.problems)")

        let followed = try DatasetLoader.load(folder.path, options: ImportOptions(followLinks: true))
        XCTAssertEqual(followed.dataset.classCounts, [5, 4])
        XCTAssertTrue(followed.problems.isEmpty, "\(followed.problems)")
        // The linked files keep their place in name order, as if they were real.
        let cats = followed.dataset.sources.filter { $0.contains("/cats/") }.map { String($0.dropFirst(folder.path.count)) }
        XCTAssertEqual(cats, ["/cats/0.png", "/cats/1.png", "/cats/2.png", "/cats/more/0.png", "/cats/more/1.png"])
    }

    func testLinksInsideTheRootAreFollowedAndDeduplicatedByInode() throws {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, labels: ["cats", "dogs"], perClass: 3)
        // A hidden store is never listed itself; a link to one of its files is.
        try folder.write(".store/kitten.png", try fixturePNG(label: 0, index: 9))
        try link(folder, "cats/kitten.png", to: "../.store/kitten.png")
        // A second name for a listed file, and a folder link to a listed folder: nothing twice.
        try link(folder, "dogs/again.png", to: "0.png")
        try link(folder, "cats/dogs-too", to: "../dogs")
        let result = try DatasetLoader.load(folder.path)
        XCTAssertEqual(result.dataset.classCounts, [4, 3])
        XCTAssertTrue(result.dataset.sources.contains("\(folder.path)/cats/kitten.png"))
        XCTAssertEqual(problems(result, endingWith: "dogs/again.png").first?.reason.contains("already listed"), true,
                       "\(result.problems)")
        XCTAssertEqual(problems(result, endingWith: "cats/dogs-too").first?.reason.contains("already listed"), true,
                       "\(result.problems)")
        XCTAssertEqual(result.problems.count, 2, "\(result.problems)")
    }

    func testDanglingLinkIsNamedWithTheSystemReason() throws {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, labels: ["cats", "dogs"], perClass: 2)
        try link(folder, "cats/gone.png", to: "nowhere.png")
        let result = try DatasetLoader.load(folder.path)
        XCTAssertEqual(result.dataset.classCounts, [2, 2])
        let reported = problems(result, endingWith: "cats/gone.png")
        XCTAssertEqual(reported.count, 1, "\(result.problems)")
        XCTAssertTrue(reported.first?.reason.contains(String(cString: strerror(ENOENT))) == true, "\(reported)")
    }

    /// A file that vanishes between listing and reading is an open failure with the system's
    /// reason — not "image has no pixels".
    func testFileThatCannotBeOpenedSaysWhatFailed() throws {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, labels: ["cats", "dogs"], perClass: 3)
        let tree = FileTree(directory: folder.path)
        try FileManager.default.removeItem(atPath: "\(folder.path)/cats/1.png")
        let result = try DatasetLoader.load(tree: tree, options: ImportOptions())
        XCTAssertEqual(result.dataset.classCounts, [2, 3])
        let reported = problems(result, endingWith: "cats/1.png")
        XCTAssertEqual(reported.first?.reason, "open failed: \(String(cString: strerror(ENOENT)))", "\(result.problems)")
    }

    /// The intake path `predict` uses: a folder named like an image is a read failure, a
    /// missing file an open failure, each named; the readable files keep their order.
    func testDecodingGivenFilesNamesEachIOFailure() throws {
        let folder = try TemporaryFolder()
        let good = try folder.write("good.png", try fixturePNG(label: 1, index: 2, width: 5, height: 4))
        try folder.makeFolder("folder.jpg")
        let names = [good, "\(folder.path)/folder.jpg", "\(folder.path)/missing.png", good]
        let decoded = try ImageImporter.decode(files: names, size: ImageSize(width: 5, height: 4), resizeMode: .squash,
                                               classNames: ["a", "b"])
        XCTAssertEqual(decoded.readable, [0, 3])
        XCTAssertEqual(decoded.dataset?.count, 2)
        XCTAssertEqual(decoded.dataset?.image(at: 1), fixtureImage(label: 1, index: 2, width: 5, height: 4))
        XCTAssertEqual(decoded.failures[1], "read failed: \(String(cString: strerror(EISDIR)))")
        XCTAssertEqual(decoded.failures[2], "open failed: \(String(cString: strerror(ENOENT)))")
        XCTAssertThrowsError(try ImageImporter.decode(files: names, size: ImageSize(width: 5, height: 4),
                                                      resizeMode: .squash, classNames: ["a", "b"], strict: true)) {
            XCTAssertTrue("\($0)".contains("folder.jpg"), "\($0)")
        }
    }
}
