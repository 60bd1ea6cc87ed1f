import Foundation
import XCTest
import PerceptCore
@testable import PerceptData
import PerceptImage

/// Datasets inside archives load exactly like the folders they came from.
final class ArchiveLayoutTests: XCTestCase {
    private func labelFolderItems(root: String) throws -> [TestArchive.Item] {
        var items: [TestArchive.Item] = []
        for (label, name) in ["cat", "dog"].enumerated() {
            for index in 0..<3 {
                items.append(.file("\(root)\(name)/\(index).png", try fixturePNG(label: label, index: index)))
            }
        }
        return items
    }

    func testZippedFolderPerLabelMatchesTheFolder() throws {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, root: "plain", labels: ["cat", "dog"], perClass: 3)
        let zip = folder.path + "/pets.zip"
        try TestArchive.write(try labelFolderItems(root: "pets/"), format: .zip, to: zip)
        let fromFolder = try DatasetLoader.load(folder.path + "/plain").dataset
        let fromZip = try DatasetLoader.load(zip)
        XCTAssertEqual(fromZip.layout, .folderPerLabel)
        XCTAssertEqual(fromZip.dataset.classNames, fromFolder.classNames)
        XCTAssertEqual(fromZip.dataset.labels, fromFolder.labels)
        XCTAssertEqual((0..<6).map { fromZip.dataset.image(at: $0) }, (0..<6).map { fromFolder.image(at: $0) })
        XCTAssertEqual(fromZip.dataset.sources[0], zip + ":pets/cat/0.png")
    }

    func testUnsafeEntryIsReportedAndTheRestLoads() throws {
        let folder = try TemporaryFolder()
        let tgz = folder.path + "/data.tar.gz"
        var items = try labelFolderItems(root: "")
        items.append(.file("../evil.png", try fixturePNG(label: 0, index: 0)))
        items.append(.file("dog/broken.jpg", Array("not a jpeg".utf8)))
        try TestArchive.write(items, format: .tarGz, to: tgz)
        let result = try DatasetLoader.load(tgz)
        XCTAssertEqual(result.dataset.count, 6)
        XCTAssertTrue(result.problems.contains { $0.reason.contains("unsafe path") }, "\(result.problems)")
        XCTAssertTrue(result.problems.contains { $0.path == tgz + ":dog/broken.jpg" }, "\(result.problems)")
    }

    func testManifestInsideAnArchive() throws {
        let folder = try TemporaryFolder()
        let zip = folder.path + "/m.zip"
        var items = try labelFolderItems(root: "set/img/")
        items.append(.file("set/labels.csv", Array("TRAIN,img/cat/0.png,cat\nTEST,img/dog/1.png,dog\nimg/nope.png,dog\n".utf8)))
        try TestArchive.write(items, format: .zip, to: zip)
        let result = try DatasetLoader.load(zip)
        XCTAssertEqual(result.layout, .manifest)
        XCTAssertEqual(result.dataset.count, 2)
        XCTAssertEqual(result.dataset.splits, [.train, .test])
        XCTAssertEqual(result.dataset.image(at: 1), fixtureImage(label: 1, index: 1))
        XCTAssertTrue(result.problems.contains { $0.path.hasSuffix("row 3") && $0.reason.contains("not found") })
    }

    func testCIFARReleaseInsideATarGz() throws {
        // Two CIFAR-10 records in data_batch_1.bin and one in test_batch.bin, inside the release's folder.
        func record(label: UInt8, value: UInt8) -> [UInt8] { [label] + [UInt8](repeating: value, count: 3072) }
        let folder = try TemporaryFolder()
        let tgz = folder.path + "/cifar-10-binary.tar.gz"
        try TestArchive.write([
            .file("cifar-10-batches-bin/data_batch_1.bin", record(label: 3, value: 10) + record(label: 5, value: 20)),
            .file("cifar-10-batches-bin/test_batch.bin", record(label: 9, value: 30)),
            .file("cifar-10-batches-bin/batches.meta.txt", Array("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n".utf8)),
        ], format: .tarGz, to: tgz)
        let result = try DatasetLoader.load(tgz)
        XCTAssertEqual(result.layout, .cifar10)
        XCTAssertEqual(result.dataset.labels, [3, 5, 9])
        XCTAssertEqual(result.dataset.splits, [.train, .train, .test])
        XCTAssertEqual(result.dataset.image(at: 2), Image(width: 32, height: 32, fill: (30, 30, 30)))
        // A requested size resizes decoded data too.
        let small = try DatasetLoader.load(tgz, options: ImportOptions(imageSize: ImageSize(width: 8, height: 8)))
        XCTAssertEqual(small.dataset.image(at: 0), Image(width: 8, height: 8, fill: (10, 10, 10)))
    }

    func testPackRoundTripThroughTheLoader() throws {
        let folder = try TemporaryFolder()
        try writeLabelFolders(folder, root: "d", labels: ["a", "b"], perClass: 2)
        let original = try DatasetLoader.load(folder.path + "/d").dataset
        try PackFile.write(original, to: folder.path + "/d.pack")
        let result = try DatasetLoader.load(folder.path + "/d.pack")
        XCTAssertEqual(result.layout, .pack)
        XCTAssertEqual(result.dataset.labels, original.labels)
        XCTAssertEqual(result.dataset.image(at: 3), original.image(at: 3))
    }

    func testSharedCIFARSampleLoadsThroughTheLoader() throws {
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/datasets/cifar10-binary-sample").path
        guard FileManager.default.fileExists(atPath: sample) else { throw XCTSkip("../shared is absent") }
        let result = try DatasetLoader.load(sample)
        XCTAssertEqual(result.layout, .cifar10)
        XCTAssertEqual(result.dataset.count, 1000)
        XCTAssertEqual(result.dataset.classNames.count, 10)
    }
}
