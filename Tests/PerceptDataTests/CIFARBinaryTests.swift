import Foundation
import PerceptCore
import TestSupport
@testable import PerceptData
import XCTest

final class CIFARBinaryTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// `<root>/../shared/datasets/cifar10-binary-sample`, where root is the package root
    /// (this file is `<root>/Tests/PerceptDataTests/CIFARBinaryTests.swift`).
    static var sampleDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("../shared/datasets/cifar10-binary-sample")
            .standardizedFileURL.path
    }

    /// The numpy oracle in expected.json.
    struct Expected: Decodable {
        struct Record: Decodable {
            var label: String
            var pixel_sum: Int
            var top_left_rgb: [Int]
            var bottom_right_rgb: [Int]
        }
        var records: Int
        var label_counts: [String: Int]
        var channel_mean_rgb: [Double]
        var first_records: [Record]
    }

    func testSampleBatchMatchesNumpyOracle() throws {
        let sample = Self.sampleDirectory
        guard FileManager.default.fileExists(atPath: "\(sample)/expected.json") else {
            throw XCTSkip("shared CIFAR-10 sample not found at \(sample)")
        }
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: "\(sample)/expected.json")))
        let result = try CIFARBinary.load(directory: sample)
        let dataset = result.dataset
        XCTAssertEqual(result.problems, [])
        XCTAssertEqual(dataset.count, expected.records)
        XCTAssertEqual(dataset.classNames, CIFARBinary.cifar10ClassNames)
        XCTAssertEqual(dataset.height, 32)
        XCTAssertEqual(dataset.width, 32)
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: zip(dataset.classNames, dataset.classCounts)), expected.label_counts)

        var channelSums = [0, 0, 0]
        for (index, value) in dataset.pixels.bytes.enumerated() { channelSums[index % 3] += Int(value) }
        let means = channelSums.map { Double($0) / Double(dataset.count * 1024) }
        for channel in 0..<3 { assertClose(means[channel], expected.channel_mean_rgb[channel]) }

        for (index, record) in expected.first_records.enumerated() {
            let pixels = Array(dataset.pixels(at: index))
            XCTAssertEqual(dataset.classNames[Int(dataset.labels[index])], record.label, "record \(index)")
            XCTAssertEqual(pixels.reduce(0) { $0 + Int($1) }, record.pixel_sum, "record \(index)")
            XCTAssertEqual(pixels[0..<3].map(Int.init), record.top_left_rgb, "record \(index)")
            XCTAssertEqual(pixels[(3072 - 3)...].map(Int.init), record.bottom_right_rgb, "record \(index)")
        }
        XCTAssertEqual(dataset.sources[17], "data_batch_1.bin#17")
        XCTAssertEqual(Set(dataset.splits), [.train])
        // Only data_batch_1.bin is in the sample; the others are noted, not problems.
        XCTAssertEqual(result.notes.count, 1)
        XCTAssertTrue(result.notes[0].contains("found 1 of the 6 batches"), result.notes[0])
    }

    func testSampleLoadsFromItsArchive() throws {
        let sample = Self.sampleDirectory
        guard FileManager.default.fileExists(atPath: "\(sample)/data_batch_1.bin") else {
            throw XCTSkip("shared CIFAR-10 sample not found at \(sample)")
        }
        let archive = "\(directory)/cifar-10-binary.tar.gz"
        let batch = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(sample)/data_batch_1.bin")))
        try TestArchive.write([.file("cifar-10-batches-bin/data_batch_1.bin", batch)], format: .tarGz, to: archive)
        let (entries, problems) = try ArchiveReader.readAll(archive)
        XCTAssertEqual(problems, [])
        let fromArchive = try CIFARBinary.load(entries: entries, archiveName: archive)
        let fromFolder = try CIFARBinary.load(directory: sample)
        XCTAssertEqual(Array(fromArchive.dataset.pixels.bytes), Array(fromFolder.dataset.pixels.bytes))
        XCTAssertEqual(fromArchive.dataset.labels, fromFolder.dataset.labels)
        // No batches.meta.txt in this archive: the standard names, with a note saying so.
        XCTAssertEqual(fromArchive.dataset.classNames, CIFARBinary.cifar10ClassNames)
        XCTAssertTrue(fromArchive.notes.contains { $0.contains("no batches.meta.txt") }, "\(fromArchive.notes)")
    }

    /// A record whose planes are recognisable: R = pixel index mod 256, G = record number,
    /// B = 255 − R, so a transposition mistake shows up in the first pixels.
    private func record(labels: [UInt8], number: Int) -> [UInt8] {
        let red = (0..<1024).map { UInt8($0 % 256) }
        return labels + red + [UInt8](repeating: UInt8(number), count: 1024) + red.map { 255 - $0 }
    }

    func testPlanesAreTransposedToRowsColumnsChannels() throws {
        let bytes = record(labels: [6], number: 9)
        let result = try bytes.withUnsafeBytes {
            try CIFARBinary.decode(batch: $0, name: "one.bin", variant: .cifar10)
        }
        let pixels = Array(result.dataset.pixels(at: 0))
        // Row 1, column 2 is pixel 34 of each plane.
        let offset = (1 * 32 + 2) * 3
        XCTAssertEqual(Array(pixels[offset..<(offset + 3)]), [34, 9, 221])
        XCTAssertEqual(Array(pixels[(3072 - 3)...]), [255, 9, 0])  // pixel 1023: 1023 mod 256 = 255
        XCTAssertEqual(result.dataset.labels, [6])
        XCTAssertEqual(result.dataset.classNames[6], "frog")
        XCTAssertEqual(result.dataset.sources, ["one.bin#0"])
    }

    func testTruncatedBatchKeepsCompleteRecordsAndReportsTheFile() throws {
        let batch = record(labels: [3], number: 0) + record(labels: [5], number: 1) + record(labels: [1], number: 2)
        let cut = batch.prefix(3073 * 5 / 2)  // 2.5 records
        try Data(cut).write(to: URL(fileURLWithPath: "\(directory)/data_batch_1.bin"))
        let result = try CIFARBinary.load(directory: directory)
        XCTAssertEqual(result.dataset.count, 2)
        XCTAssertEqual(result.dataset.labels, [3, 5])
        XCTAssertEqual(result.dataset.pixels(at: 1)[1], 1)  // record 1's green
        XCTAssertEqual(result.problems, [LoadProblem(path: "\(directory)/data_batch_1.bin",
            reason: "truncated: 7,682 bytes is 2.49 records of 3,073; the last record is incomplete")])
        XCTAssertTrue(result.notes.contains { $0.contains("no batches.meta.txt; using the standard CIFAR-10 names") })

        XCTAssertThrowsError(try CIFARBinary.load(directory: directory, strict: true)) { error in
            XCTAssertEqual(error as? PerceptError, .corrupt("\(directory)/data_batch_1.bin",
                "truncated: 7,682 bytes is 2.49 records of 3,073; the last record is incomplete"))
        }
    }

    func testCIFAR100FineAndCoarseLabelsWithTrainAndTestSplits() throws {
        let folder = "\(directory)/cifar-100-binary"  // the folder the archive extracts to
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // Coarse label first, then fine; record 2's fine label 100 is not one of the 100 classes.
        let train = record(labels: [4, 30], number: 0) + record(labels: [19, 99], number: 1) + record(labels: [0, 100], number: 2)
        let test = record(labels: [7, 0], number: 3)
        try Data(train).write(to: URL(fileURLWithPath: "\(folder)/train.bin"))
        try Data(test).write(to: URL(fileURLWithPath: "\(folder)/test.bin"))
        let fine = (0..<100).map { "fine\($0)" }, coarse = (0..<20).map { "coarse\($0)" }
        try Data((fine.joined(separator: "\n") + "\n\n").utf8).write(to: URL(fileURLWithPath: "\(folder)/fine_label_names.txt"))
        try Data((coarse.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: "\(folder)/coarse_label_names.txt"))

        let fineResult = try CIFARBinary.load(directory: directory)  // finds the subfolder
        XCTAssertEqual(fineResult.dataset.classNames, fine)
        XCTAssertEqual(fineResult.dataset.labels, [30, 99, 0])
        XCTAssertEqual(fineResult.dataset.splits, [.train, .train, .test])
        XCTAssertEqual(fineResult.dataset.sources, ["train.bin#0", "train.bin#1", "test.bin#0"])
        XCTAssertEqual(fineResult.dataset.pixels(at: 2)[1], 3)  // test.bin's record, green = 3
        XCTAssertEqual(fineResult.problems, [LoadProblem(path: "\(folder)/train.bin#2",
            reason: "label 100 is outside the 100 classes — record skipped")])

        let coarseResult = try CIFARBinary.load(directory: folder, labels: .coarse)
        XCTAssertEqual(coarseResult.dataset.classNames, coarse)
        XCTAssertEqual(coarseResult.dataset.labels, [4, 19, 0, 7])
        XCTAssertEqual(coarseResult.problems, [])
    }

    func testFolderWithoutBatchesIsAnError() throws {
        XCTAssertThrowsError(try CIFARBinary.load(directory: directory)) {
            XCTAssertEqual(($0 as? PerceptError)?.kind, .invalidData)
        }
        XCTAssertThrowsError(try CIFARBinary.load(directory: "\(directory)/nope")) {
            XCTAssertEqual(($0 as? PerceptError)?.kind, .io)
        }
    }

    func testThousandsSeparators() {
        XCTAssertEqual(CIFARBinary.grouped(3_073_000), "3,073,000")
        XCTAssertEqual(CIFARBinary.grouped(999), "999")
        XCTAssertEqual(CIFARBinary.grouped(1000), "1,000")
        XCTAssertEqual(CIFARBinary.grouped(0), "0")
    }
}
