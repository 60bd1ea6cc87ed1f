import Foundation
import Percept
@testable import PerceptServer
import XCTest

/// Uploaded archives through the service's import: counts, warnings, problems, refusals.
final class ImportTests: XCTestCase {
    var directory: URL!
    var service: LocalPerceptService!

    override func setUpWithError() throws {
        directory = try StoreFixtures.temporaryDirectory()
        service = try LocalPerceptService(dataDirectory: directory.appendingPathComponent("data"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// `source/` with 10 shapes per label, plus whatever `extra` writes there.
    private func makeSource(extra: (URL) throws -> Void = { _ in }) throws -> URL {
        let source = directory.appendingPathComponent("source")
        try StoreFixtures.writeImages(to: source)
        try extra(source)
        return source
    }

    func testTarGzImportIsReadyWithCountsSplitsWarningsAndProblems() async throws {
        let source = try makeSource { source in
            try Data("not a png".utf8).write(to: source.appendingPathComponent("square/broken.png"))
        }
        let upload = directory.appendingPathComponent("upload.tar.gz")
        try StoreFixtures.tarGz(["circle", "square", "triangle"], in: source, to: upload)
        let id = try await service.createDataset(name: "shapes", upload: upload)
        XCTAssertFalse(FileManager.default.fileExists(atPath: upload.path), "the upload is moved into the data folder")
        let status = try await service.importedDataset(id)
        XCTAssertEqual(status.state, .ready, status.error ?? "")
        XCTAssertEqual(status.name, "shapes")
        XCTAssertEqual(status.imageCount, 30)
        XCTAssertEqual(status.progress, 1)
        XCTAssertEqual(status.classes, [.init(name: "circle", count: 10), .init(name: "square", count: 10),
                                        .init(name: "triangle", count: 10)])
        // The AutoML warning: fewer than 100 images per label, one per label.
        XCTAssertEqual(status.warnings.filter { $0.kind == "few-images" }.count, 3, "\(status.warnings)")
        XCTAssertEqual(status.problems.count, 1, "\(status.problems)")
        XCTAssertEqual(status.problems.first?.path, "square/broken.png")
        let serverPath = directory.path
        for text in status.problems.map(\.reason) + status.warnings.map(\.message) {
            XCTAssertFalse(text.contains(serverPath), "a server path reached the client: \(text)")
        }
        // The pack holds every image with the source's split marks (none here); the dataset's plan,
        // 80/10/10 at first, divides them stratified.
        let row = try await service.database.read { try DatasetRecord.fetchOne($0, key: id) }
        let pack = try PackFile.load(service.directory.pack(named: try XCTUnwrap(row?.packFile)).path)
        XCTAssertEqual(pack.count, 30)
        XCTAssertEqual(row?.splitCounts, ["train": 24, "validation": 3, "test": 3])
        XCTAssertEqual(Set(pack.splits), [.unassigned])
        let divided = try (row?.splitPlan ?? .standard).apply(to: pack)
        XCTAssertEqual(Set(divided.items(in: .test).labels), [0, 1, 2])
        let datasetIds = try await service.datasets().map(\.id)
        XCTAssertEqual(datasetIds, [id])
    }

    func testIdenticalCopiesAreDuplicatesAndCopiesAcrossSplitsAreLeakage() async throws {
        let source = try makeSource { source in
            for copy in 1...9 {
                try FileManager.default.copyItem(at: source.appendingPathComponent("circle/0.png"),
                                                 to: source.appendingPathComponent("circle/copy\(copy).png"))
            }
        }
        let upload = directory.appendingPathComponent("copies.tar.gz")
        try StoreFixtures.tarGz(["circle", "square", "triangle"], in: source, to: upload)
        let id = try await service.createDataset(name: "copies", upload: upload)
        let status = try await service.importedDataset(id)
        XCTAssertEqual(status.state, .ready, status.error ?? "")
        let kinds = Set(status.warnings.map(\.kind))
        XCTAssertTrue(kinds.isSuperset(of: ["duplicates", "leakage"]), "\(status.warnings)")
        let duplicates = try XCTUnwrap(status.warnings.first { $0.kind == "duplicates" })
        XCTAssertTrue(duplicates.message.hasPrefix("1 image has identical copies (e.g. circle/0.png and circle/copy1.png)"),
                      duplicates.message)
    }

    func testZipImportFindsTheSameLabels() async throws {
        let source = try makeSource()
        let upload = directory.appendingPathComponent("upload.zip")
        try StoreFixtures.zip(["circle", "square", "triangle"], in: source, to: upload)
        let id = try await service.createDataset(name: "zipped", upload: upload)
        let status = try await service.importedDataset(id)
        XCTAssertEqual(status.state, .ready, status.error ?? "")
        XCTAssertEqual(status.classes.map(\.count), [10, 10, 10])
    }

    func testNotAnArchiveFailsWithAReasonNamingTheDatasetNotTheServerPath() async throws {
        let upload = directory.appendingPathComponent("junk.bin")
        try Data((0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }).write(to: upload)
        let id = try await service.createDataset(name: "junk", upload: upload)
        let status = try await service.importedDataset(id)
        XCTAssertEqual(status.state, .failed)
        let error = try XCTUnwrap(status.error)
        XCTAssertTrue(error.hasPrefix("junk: "), error)
        XCTAssertTrue(error.contains("archive"), error)
        XCTAssertFalse(error.contains(directory.path), error)
        XCTAssertEqual(status.imageCount, 0)
    }

    func testZipSlipEntryIsRefusedAndNamedAndNothingIsWrittenOutside() async throws {
        let source = try makeSource()
        try Data("owned".utf8).write(to: directory.appendingPathComponent("evil.png"))
        let upload = directory.appendingPathComponent("slip.tar.gz")
        try StoreFixtures.tarGz(["circle", "square", "triangle", "../evil.png"], in: source, to: upload)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("evil.png"))
        let id = try await service.createDataset(name: "slip", upload: upload)
        let status = try await service.importedDataset(id)
        XCTAssertEqual(status.state, .ready, status.error ?? "")
        XCTAssertEqual(status.imageCount, 30)
        XCTAssertTrue(status.problems.contains(.init(path: "slip", reason: "unsafe path in archive: ../evil.png — skipped")),
                      "\(status.problems)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("evil.png").path))
    }

    func testSymbolicLinkEntryIsRefusedAndNamed() async throws {
        let source = try makeSource { source in
            try FileManager.default.createSymbolicLink(atPath: source.appendingPathComponent("circle/passwd.png").path,
                                                       withDestinationPath: "/etc/passwd")
        }
        let upload = directory.appendingPathComponent("links.tar.gz")
        try StoreFixtures.tarGz(["circle", "square", "triangle"], in: source, to: upload)
        let id = try await service.createDataset(name: "links", upload: upload)
        let status = try await service.importedDataset(id)
        XCTAssertEqual(status.state, .ready, status.error ?? "")
        XCTAssertTrue(status.problems.contains(.init(path: "circle/passwd.png", reason: "symbolic link in archive — skipped")),
                      "\(status.problems)")
    }

    func testDecompressionBeyondTheBudgetFails() async throws {
        let small = try LocalPerceptService(dataDirectory: directory.appendingPathComponent("small"), expansionFactor: 1,
                                            minimumBudget: 1 << 20)
        let source = try makeSource { source in
            try Data(count: 4 << 20).write(to: source.appendingPathComponent("circle/zeros.png"))
        }
        let upload = directory.appendingPathComponent("bomb.tar.gz")
        try StoreFixtures.tarGz(["circle", "square", "triangle"], in: source, to: upload)
        let id = try await small.createDataset(name: "bomb", upload: upload)
        let status = try await small.importedDataset(id)
        XCTAssertEqual(status.state, .failed)
        XCTAssertTrue(status.error?.contains("expands to more than 1048576 bytes") == true, status.error ?? "")
        XCTAssertFalse(status.error?.contains(directory.path) == true, status.error ?? "")
    }

    func testReopeningRestartsAnImportWhoseUploadIsStillThereAndFailsOneWithout() async throws {
        let source = try makeSource()
        let data = directory.appendingPathComponent("data")
        // Two imports a killed server left behind (rows by hand): one upload kept, one gone.
        let (kept, lost) = try await service.database.write { db in
            try (0..<2).map { index -> Int64 in
                var row = DatasetRecord(id: nil, name: "left-\(index)", state: .importing, progress: 0.3, packFile: nil,
                                        imageCount: 0, labelCounts: [], splitCounts: [:], warnings: [], problems: [],
                                        error: nil, createdAt: Date())
                try row.insert(db)
                return try XCTUnwrap(row.id)
            }
        }.firstTwo
        try StoreFixtures.tarGz(["circle", "square", "triangle"], in: source,
                                to: DataDirectory(root: data).upload(dataset: kept))
        let reopened = try LocalPerceptService(dataDirectory: data)
        let restarted = try await reopened.importedDataset(kept)
        XCTAssertEqual(restarted.state, .ready, restarted.error ?? "")
        XCTAssertEqual(restarted.imageCount, 30)
        let failed = try await reopened.dataset(lost)
        XCTAssertEqual(failed.state, .failed)
        XCTAssertEqual(failed.error, "the server stopped during the import; upload the images again")
    }

    func testEmptyNameAndMissingUploadAreBadRequests() async throws {
        do {
            _ = try await service.createDataset(name: "  ", upload: directory.appendingPathComponent("x"))
            XCTFail("an empty name was accepted")
        } catch let error as ServiceError {
            guard case .badRequest = error else { return XCTFail("\(error)") }
        }
        do {
            _ = try await service.dataset(99)
            XCTFail("a missing dataset was found")
        } catch let error as ServiceError {
            XCTAssertEqual(error, .notFound("there is no dataset 99"))
        }
    }
}

private extension Array {
    /// The first two elements, for a test that made exactly two.
    var firstTwo: (Element, Element) { (self[0], self[1]) }
}
