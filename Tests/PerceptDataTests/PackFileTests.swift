import Foundation
import PerceptCore
@testable import PerceptData
import XCTest

final class PackFileTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// Five 4×3 RGB images with pseudo-random pixels and labels, names and sources in several scripts.
    private func makeDataset() throws -> Dataset {
        var state: UInt32 = 7
        let pixels = (0..<(5 * 4 * 3 * 3)).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        return try Dataset(height: 4, width: 3, channels: 3, pixels: PixelStorage(copying: pixels),
                           labels: [2, 0, 1, 2, 3], classNames: ["cat", "chien", "猫", "🐈 tabby"],
                           sources: ["a/1.jpg", "b/ü.png", "archive.zip:c/3.jpg", "data_batch_1.bin#17", ""],
                           splits: [.train, .validation, .test, .unassigned, .train])
    }

    private func assertSame(_ a: Dataset, _ b: Dataset, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual([a.height, a.width, a.channels], [b.height, b.width, b.channels], file: file, line: line)
        XCTAssertEqual(Array(a.pixels.bytes), Array(b.pixels.bytes), file: file, line: line)
        XCTAssertEqual(a.labels, b.labels, file: file, line: line)
        XCTAssertEqual(a.classNames, b.classNames, file: file, line: line)
        XCTAssertEqual(a.sources, b.sources, file: file, line: line)
        XCTAssertEqual(a.splits, b.splits, file: file, line: line)
    }

    func testRoundTripKeepsEverythingAndMapsPixelsInPlace() throws {
        let original = try makeDataset()
        let path = "\(directory)/set.pack"
        try PackFile.write(original, to: path)
        let loaded = try PackFile.load(path)
        assertSame(loaded, original)
        // Pixels are the map's own bytes at the pixels array's offset, i.e. they were not copied.
        let address = Int(bitPattern: loaded.pixels.bytes.baseAddress)
        XCTAssertEqual(address % 64, 0)
        XCTAssertEqual(try pixelOffset(path) % 64, 0)
        assertSame(try PackFile.load(path, verifyChecksum: false), original)
    }

    /// Where the pixels array starts in the pack at `path`.
    private func pixelOffset(_ path: String) throws -> Int {
        guard case .current(let file) = try BinaryContainer.open(path, as: .pack, verifyChecksum: false) else {
            throw PerceptError.corrupt(path, "expected a version 2 pack")
        }
        return file.range(of: try file.entry("pixels", type: .uint8)).lowerBound
    }

    func testLayoutIsTheSharedContainerWithPixelsFirst() throws {
        let path = "\(directory)/set.pack"
        try PackFile.write(try makeDataset(), to: path)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(bytes[0..<8]), Array("PRCPTPAK".utf8))
        XCTAssertEqual(Array(bytes[8..<12]), [2, 0, 0, 0])
        XCTAssertEqual(Array(bytes.suffix(8)), Array("PRCPTEND".utf8))
        let dataset = try makeDataset()
        let offset = try pixelOffset(path)
        withExtendedLifetime(dataset) { XCTAssertEqual(Array(bytes[offset..<(offset + 180)]), Array(dataset.pixels.bytes)) }
        guard case .current(let file) = try BinaryContainer.open(path, as: .pack) else { return XCTFail("not version 2") }
        XCTAssertEqual(file.arrays.map(\.name), ["pixels", "labels", "splits", "sources"])
        XCTAssertEqual(file.arrays[0].shape, [5, 4, 3, 3])
    }

    func testEmptyDatasetRoundTrips() throws {
        let empty = try Dataset(height: 2, width: 2, pixels: PixelStorage(copying: []), labels: [], classNames: ["only"])
        let path = "\(directory)/empty.pack"
        try PackFile.write(empty, to: path)
        assertSame(try PackFile.load(path), empty)
    }

    // MARK: - Damage

    private func writePack() throws -> (path: String, bytes: [UInt8]) {
        let path = "\(directory)/set.pack"
        try PackFile.write(try makeDataset(), to: path)
        return (path, try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))))
    }

    private func overwrite(_ path: String, with bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    private func assertLoadFails(_ path: String, _ kind: PerceptError.Kind, containing text: String, verify: Bool = true,
                                 file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try PackFile.load(path, verifyChecksum: verify), file: file, line: line) { error in
            guard let error = error as? PerceptError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
            XCTAssertEqual(error.path, path, file: file, line: line)
            XCTAssertTrue(error.reason.contains(text), "\(error.reason)", file: file, line: line)
        }
    }

    func testFlippedPixelByteFailsTheChecksum() throws {
        var (path, bytes) = try writePack()
        let offset = try pixelOffset(path)
        bytes[offset + 10] ^= 0x01
        try overwrite(path, with: bytes)
        assertLoadFails(path, .corrupt, containing: "checksum mismatch")
        // Unchecked, the damage goes through: the check is what catches it.
        // (The dataset is kept in a variable: its pixels live only as long as it does.)
        let unchecked = try PackFile.load(path, verifyChecksum: false)
        withExtendedLifetime(unchecked) { XCTAssertEqual(unchecked.pixels.bytes[10], bytes[offset + 10]) }
    }

    func testCutFileIsTruncated() throws {
        let (path, bytes) = try writePack()
        try overwrite(path, with: Array(bytes.dropLast(100)))
        assertLoadFails(path, .corrupt, containing: "truncated: the file is \(bytes.count - 100) bytes, its header says \(bytes.count)")
        try overwrite(path, with: Array(bytes.prefix(10)))
        assertLoadFails(path, .corrupt, containing: "truncated")
    }

    func testWrongMagicIsNotAPack() throws {
        var (path, bytes) = try writePack()
        bytes[0] = UInt8(ascii: "X")
        try overwrite(path, with: bytes)
        assertLoadFails(path, .unsupported, containing: "not a Percept dataset pack")
        try overwrite(path, with: [])
        assertLoadFails(path, .unsupported, containing: "not a Percept dataset pack")
    }

    func testNewerVersionAsksForAnUpgrade() throws {
        var (path, bytes) = try writePack()
        bytes[8] = 3
        try overwrite(path, with: bytes)
        XCTAssertThrowsError(try PackFile.load(path)) { error in
            XCTAssertEqual(error as? PerceptError,
                .unsupported(path, "dataset pack format version 3 is newer than this Percept (reads 2); upgrade Percept"))
        }
    }

    func testAModelGivenAsAPackIsNamed() throws {
        let path = "\(directory)/model.percept"
        try BinaryContainer.write(.model, content: ["kind": "knn"], arrays: [], to: path)
        assertLoadFails(path, .unsupported, containing: "this is a model file, not a dataset pack")
    }

    func testLabelsOfAnotherCountAreCorrupt() throws {
        let path = "\(directory)/set.pack"
        let dataset = try makeDataset()
        let description = PackFile.Description(count: 5, height: 4, width: 3, channels: 3, classNames: dataset.classNames)
        try BinaryContainer.write(.pack, content: description, arrays: [
            ContainerArray("pixels", bytes: Array(dataset.pixels.bytes), shape: [5, 4, 3, 3]),
            ContainerArray("labels", shape: [4], int32s: [0, 1, 2, 3]),
        ], to: path)
        assertLoadFails(path, .corrupt, containing: "the array 'labels' is int32 [4], expected int32 [5]")
    }

    // MARK: - Atomicity

    func testFailedWriteLeavesTheOldPackAndNoTemporaryFile() throws {
        let (path, before) = try writePack()
        let other = try makeDataset().subset([4, 3])
        struct DiskFull: Error {}
        XCTAssertThrowsError(try PackFile.write(other, to: path, beforeEachWrite: { written in
            if written > 0 { throw DiskFull() }
        }))
        XCTAssertEqual(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["set.pack"])
        assertSame(try PackFile.load(path), try makeDataset())
    }

    func testWritingIntoAMissingFolderIsAnIOError() throws {
        XCTAssertThrowsError(try PackFile.write(try makeDataset(), to: "\(directory)/missing/set.pack")) {
            XCTAssertEqual(($0 as? PerceptError)?.kind, .io)
        }
    }
}
