import Foundation
import XCTest
import PerceptCore
@testable import PerceptData

final class DecodedBatchTests: XCTestCase {
    private func records(_ count: Int) -> [ImageFileRecord] {
        (0..<count).map { ImageFileRecord(path: "image\($0).png", label: Int32($0 % 2), split: .unassigned, byteCount: 0) }
    }

    func testReadableSlotsAreCompactedInOrderAndRecordsKeepTheirWrites() {
        let stride = 5
        let batch = DecodedBatch(records: records(6), stride: stride)
        Parallel.forEachChunk(count: 6, threads: 3) { range in
            for index in range {
                batch.store((0..<stride).map { UInt8(10 * index + $0) }, at: index)
                batch[record: index].byteCount = 100 + index
                if index % 3 == 1 { batch[record: index].failure = "unreadable" }
            }
        }
        let all = batch.allRecords
        XCTAssertEqual(all.map(\.byteCount), [100, 101, 102, 103, 104, 105])
        XCTAssertEqual(all.map(\.path), (0..<6).map { "image\($0).png" })
        let kept = all.indices.filter { all[$0].failure == nil }
        XCTAssertEqual(kept, [0, 2, 3, 5])
        let storage = batch.storage(keeping: kept)
        XCTAssertEqual(storage.count, kept.count * stride)
        for (position, index) in kept.enumerated() {
            XCTAssertEqual(storage.row(position, rowBytes: stride), (0..<stride).map { UInt8(10 * index + $0) })
        }
    }

    func testNothingKeptGivesEmptyStorage() {
        let batch = DecodedBatch(records: records(2), stride: 3)
        XCTAssertEqual(batch.storage(keeping: []).count, 0)
    }

    func testRawNamesAreTheFolderEntriesAndAMissingFolderIsNil() throws {
        let folder = try TemporaryFolder()
        try folder.write("a.png", [1])
        try folder.makeFolder("b")
        let names = try XCTUnwrap(DirectoryEntries.rawNames(in: folder.path))
        XCTAssertEqual(Set(names.map { String(decoding: $0, as: UTF8.self) }), [".", "..", "a.png", "b"])
        XCTAssertNil(DirectoryEntries.rawNames(in: folder.path + "/missing"))
    }
}
