import CArchive
import Foundation
import PerceptCore
@testable import PerceptData
import XCTest

/// Builds archives with libarchive's write API, so the reader is tested against a second,
/// independent code path rather than against itself.
enum TestArchive {
    enum Format { case zip, tarGz, gnuTar }
    enum Kind { case file, directory, symlink(String) }

    struct Item {
        var name: [UInt8]
        var data: [UInt8] = []
        var kind: Kind = .file

        static func file(_ name: String, _ data: [UInt8]) -> Item { Item(name: Array(name.utf8), data: data) }
    }

    static func write(_ items: [Item], format: Format, to path: String) throws {
        guard let archive = archive_write_new() else { throw PerceptError.io(path, "archive_write_new") }
        defer { archive_write_free(archive) }
        switch format {
        case .zip: archive_write_set_format_zip(archive)
        case .tarGz:
            archive_write_set_format_pax_restricted(archive)
            archive_write_add_filter_gzip(archive)
        case .gnuTar: archive_write_set_format_gnutar(archive)
        }
        guard archive_write_open_filename(archive, path) == ARCHIVE_OK else {
            throw PerceptError.io(path, String(cString: archive_error_string(archive)))
        }
        for item in items {
            guard let entry = archive_entry_new() else { continue }
            defer { archive_entry_free(entry) }
            // Raw bytes, so tests can write names that are not UTF-8.
            (item.name.map { CChar(bitPattern: $0) } + [0]).withUnsafeBufferPointer {
                archive_entry_copy_pathname(entry, $0.baseAddress)
            }
            switch item.kind {
            case .file:
                archive_entry_set_filetype(entry, 0o100000)
                archive_entry_set_perm(entry, 0o644)
                archive_entry_set_size(entry, Int64(item.data.count))
            case .directory:
                archive_entry_set_filetype(entry, 0o040000)
                archive_entry_set_perm(entry, 0o755)
            case .symlink(let target):
                archive_entry_set_filetype(entry, 0o120000)
                archive_entry_set_perm(entry, 0o777)
                archive_entry_set_symlink(entry, target)
            }
            guard archive_write_header(archive, entry) >= ARCHIVE_WARN else {
                throw PerceptError.io(path, String(cString: archive_error_string(archive)))
            }
            if !item.data.isEmpty {
                _ = item.data.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, $0.count) }
            }
        }
        archive_write_close(archive)
    }
}

/// A fresh folder per test, removed afterwards.
func makeTemporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("percept-data-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

final class ArchiveReaderTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// A mix of what a real and a hostile archive hold.
    private var items: [TestArchive.Item] {
        [
            TestArchive.Item(name: Array("train".utf8), kind: .directory),
            .file("train/cat/1.jpg", [1, 2, 3]),
            .file("./train/dog/2.jpg", Array(repeating: 7, count: 200_000)),  // several read chunks
            .file("../evil.txt", Array("owned".utf8)),
            .file("/etc/evil.txt", Array("owned".utf8)),
            TestArchive.Item(name: Array("train/link".utf8), kind: .symlink("/etc/passwd")),
            .file("train/猫/3.jpg", [9]),
        ]
    }

    private func checkReader(format: TestArchive.Format, file: String) throws {
        let archive = "\(directory)/\(file)"
        try TestArchive.write(items, format: format, to: archive)
        let (entries, problems) = try ArchiveReader.readAll(archive)
        XCTAssertEqual(entries.map(\.path), ["train/cat/1.jpg", "train/dog/2.jpg", "train/猫/3.jpg"])
        XCTAssertEqual(entries[0].data, [1, 2, 3])
        XCTAssertEqual(entries[1].data, Array(repeating: 7, count: 200_000))
        XCTAssertEqual(entries[2].data, [9])
        XCTAssertEqual(problems, [
            LoadProblem(path: archive, reason: "unsafe path in archive: ../evil.txt — skipped"),
            LoadProblem(path: archive, reason: "unsafe path in archive: /etc/evil.txt — skipped"),
            LoadProblem(path: "\(archive)/train/link", reason: "symbolic link in archive — skipped"),
        ])
    }

    func testReadsZip() throws { try checkReader(format: .zip, file: "data.zip") }
    func testReadsTarGz() throws { try checkReader(format: .tarGz, file: "data.tgz") }

    func testVisitorSkipsUnwantedEntries() throws {
        let archive = "\(directory)/data.tar.gz"
        try TestArchive.write(items, format: .tarGz, to: archive)
        var seen: [String] = []
        try ArchiveReader.forEachEntry(in: archive, where: { $0.hasSuffix("3.jpg") }) { seen.append($0.path) }
        XCTAssertEqual(seen, ["train/猫/3.jpg"])
    }

    func testNonUTF8NameIsReportedAndSkipped() throws {
        let archive = "\(directory)/latin1.tar"
        let latin1 = Array("caf".utf8) + [0xE9] + Array(".jpg".utf8)  // "café.jpg" in Latin-1
        try TestArchive.write([TestArchive.Item(name: latin1, data: [1]), .file("ok.jpg", [2])], format: .gnuTar, to: archive)
        let (entries, problems) = try ArchiveReader.readAll(archive)
        XCTAssertEqual(entries.map(\.path), ["ok.jpg"])
        XCTAssertEqual(problems.count, 1)
        XCTAssertEqual(problems.first?.reason, "entry name is not UTF-8 — skipped")
    }

    func testTruncatedArchiveIsCorruptNamingTheArchiveAndEntry() throws {
        let archive = "\(directory)/cut.tar.gz"
        // Random bytes do not compress, so cutting the file in half cuts into big.bin's data
        // (1 MB, far more than the decompressor's 64 KiB read-ahead).
        var state: UInt64 = 42
        let noise = (0..<1_000_000).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        try TestArchive.write([.file("first.bin", [1, 2]), .file("big.bin", noise), .file("after.bin", [1])],
                              format: .tarGz, to: archive)
        let whole = try Data(contentsOf: URL(fileURLWithPath: archive))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: archive))
        var delivered: [String] = []
        XCTAssertThrowsError(try ArchiveReader.forEachEntry(in: archive) { delivered.append($0.path) }) { error in
            let error = error as? PerceptError
            XCTAssertEqual(error?.kind, .corrupt)
            XCTAssertEqual(error?.path, archive)
            XCTAssertEqual(error?.reason, "truncated or damaged archive while reading big.bin: truncated gzip input")
        }
        XCTAssertEqual(delivered, ["first.bin"], "entries before the damage are still delivered")
        // Cut inside the first 64 KiB, nothing can be read at all: still corrupt, naming the archive.
        try whole.prefix(1000).write(to: URL(fileURLWithPath: archive))
        XCTAssertThrowsError(try ArchiveReader.readAll(archive)) { error in
            XCTAssertEqual((error as? PerceptError)?.kind, .corrupt)
            XCTAssertEqual((error as? PerceptError)?.path, archive)
        }
    }

    func testNotAnArchiveIsUnsupportedAndMissingIsIO() throws {
        let text = "\(directory)/notes.txt"
        try Data("just some text, not an archive\n".utf8).write(to: URL(fileURLWithPath: text))
        XCTAssertThrowsError(try ArchiveReader.readAll(text)) { XCTAssertEqual(($0 as? PerceptError)?.kind, .unsupported) }
        XCTAssertThrowsError(try ArchiveReader.readAll("\(directory)/missing.zip")) {
            XCTAssertEqual(($0 as? PerceptError)?.kind, .io)
        }
    }

    func testExtractWritesOnlySafeFiles() throws {
        let archive = "\(directory)/data.zip"
        try TestArchive.write(items, format: .zip, to: archive)
        let destination = "\(directory)/out/inner"
        let problems = try ArchiveReader.extract(archive, to: destination)
        let manager = FileManager.default
        XCTAssertEqual(manager.contents(atPath: "\(destination)/train/cat/1.jpg"), Data([1, 2, 3]))
        XCTAssertEqual(manager.contents(atPath: "\(destination)/train/dog/2.jpg")?.count, 200_000)
        XCTAssertEqual(manager.contents(atPath: "\(destination)/train/猫/3.jpg"), Data([9]))
        XCTAssertFalse(manager.fileExists(atPath: "\(directory)/out/evil.txt"))
        XCTAssertFalse(manager.fileExists(atPath: "\(destination)/etc/evil.txt"))
        XCTAssertFalse(manager.fileExists(atPath: "\(destination)/train/link"))
        XCTAssertEqual(problems.map(\.reason), [
            "unsafe path in archive: ../evil.txt — skipped",
            "unsafe path in archive: /etc/evil.txt — skipped",
            "link or special file in archive — not extracted",
        ])
    }

    func testByteBudgetStopsADecompressionBombNamingTheEntry() throws {
        let archive = "\(directory)/bomb.tar.gz"
        // 4 MB of zeros compress to a few kilobytes: far past a 1 MB budget once decompressed.
        try TestArchive.write([.file("a/small.jpg", [1, 2]), .file("a/zeros.jpg", Array(repeating: 0, count: 4 << 20))],
                              format: .tarGz, to: archive)
        XCTAssertLessThan(try XCTUnwrap(FileManager.default.attributesOfItem(atPath: archive)[.size] as? Int), 100_000)
        XCTAssertThrowsError(try ArchiveReader.readAll(archive, byteBudget: 1 << 20)) {
            let error = $0 as? PerceptError
            XCTAssertEqual(error?.kind, .invalidData)
            XCTAssertTrue("\($0)".contains("a/zeros.jpg"), "\($0)")
            XCTAssertTrue("\($0)".contains("1048576 bytes"), "\($0)")
        }
        // Exactly enough budget reads everything.
        let (entries, _) = try ArchiveReader.readAll(archive, byteBudget: 2 + (4 << 20))
        XCTAssertEqual(entries.map(\.data.count), [2, 4 << 20])
    }

    func testPathSafety() {
        for safe in ["a.jpg", "train/cat/a.jpg", "./a.jpg", "a..b/c", "..a"] {
            XCTAssertTrue(ArchiveReader.isSafe(path: safe), safe)
        }
        for unsafe in ["", "/a", "../a", "a/../../b", "a/..", "..\\a", "C:/x", "\\\\server\\x"] {
            XCTAssertFalse(ArchiveReader.isSafe(path: unsafe), unsafe)
        }
    }
}
