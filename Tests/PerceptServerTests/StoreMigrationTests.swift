import Foundation
import GRDB
@testable import PerceptServer
import XCTest

/// The database is created by migrations from nothing, and reopening changes nothing.
final class StoreMigrationTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try StoreFixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testMigrationCreatesEveryTableFromAnEmptyDatabaseAndASecondOpenIsANoOp() throws {
        let path = directory.appendingPathComponent("percept.sqlite").path
        let pool = try ServerDatabase.open(at: path)
        let tables = try pool.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%' ORDER BY name")
        }
        XCTAssertEqual(tables, ["dataset", "evaluation", "model", "prediction", "run"])
        XCTAssertEqual(try pool.read { try ServerDatabase.migrator.appliedIdentifiers($0) }, ["v1", "v2"])
        XCTAssertEqual(try pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }, "wal")
        try pool.write { db in
            var row = DatasetRecord(id: nil, name: "kept", state: .ready, progress: 1, packFile: "1.pack", imageCount: 3,
                                    labelCounts: [.init(name: "a", count: 3)], splitCounts: ["train": 3], warnings: [],
                                    problems: [], error: nil, createdAt: Date())
            try row.insert(db)
        }
        let schema = try pool.read { try String.fetchAll($0, sql: "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name") }
        try pool.close()

        let reopened = try ServerDatabase.open(at: path)
        XCTAssertEqual(try reopened.read { try String.fetchAll($0, sql: "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name") }, schema)
        let kept = try reopened.read { try DatasetRecord.fetchAll($0) }
        XCTAssertEqual(kept.map(\.name), ["kept"])
        XCTAssertEqual(kept.first?.labelCounts, [.init(name: "a", count: 3)])
    }

    func testServiceCreatesItsFolders() throws {
        let root = directory.appendingPathComponent("data")
        _ = try LocalPerceptService(dataDirectory: root)
        for folder in ["uploads", "datasets", "models", "checkpoints"] {
            var isDirectory: ObjCBool = false
            XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent(folder).path, isDirectory: &isDirectory))
            XCTAssertTrue(isDirectory.boolValue, folder)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("percept.sqlite").path))
    }
}
