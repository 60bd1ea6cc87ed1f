import Foundation
import PerceptCore
@testable import PerceptData
import XCTest

final class DownloadTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try makeTemporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// A miniature CIFAR-10 release: one batch of two records, packed like the real archive.
    private func makeArchive() throws -> String {
        let archive = "\(directory)/mini-cifar.tar.gz"
        let batch = [UInt8(3)] + [UInt8](repeating: 10, count: 3072) + [UInt8(8)] + [UInt8](repeating: 20, count: 3072)
        try TestArchive.write([
            TestArchive.Item(name: Array("cifar-10-batches-bin".utf8), kind: .directory),
            .file("cifar-10-batches-bin/data_batch_1.bin", batch),
            .file("cifar-10-batches-bin/batches.meta.txt", Array(CIFARBinary.cifar10ClassNames.joined(separator: "\n").utf8)),
        ], format: .tarGz, to: archive)
        return archive
    }

    private func downloader(url: String, md5: String, timeout: TimeInterval = 10) -> Downloader {
        Downloader(name: "cifar10", url: url, md5: md5, archiveName: "cifar-10-binary.tar.gz",
                   folderName: "cifar-10-batches-bin", cacheDirectory: "\(directory)/cache/cifar10", timeout: timeout)
    }

    func testOfficialChecksumsAndURLs() {
        XCTAssertEqual(DatasetDownload.cifar10.md5, "c32a1d4ab5d03f1284b67883e8d87530")
        XCTAssertEqual(DatasetDownload.cifar100.md5, "03b5dce01913d631647c71ecec9e9cb8")
        XCTAssertEqual(DatasetDownload.cifar10.archiveName, "cifar-10-binary.tar.gz")
        XCTAssertEqual(DatasetDownload.cifar100.folderName, "cifar-100-binary")
        XCTAssertEqual(DatasetDownload.cifar10.cacheDirectory(root: "/tmp/c"), "/tmp/c/cifar10")
        XCTAssertTrue(DatasetDownload.defaultCacheRoot.hasSuffix("/.cache/percept"))
    }

    func testMD5MatchesTheKnownDigest() throws {
        let path = "\(directory)/abc.txt"
        try Data("abc".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try Downloader.md5(ofFile: path), "900150983cd24fb0d6963f7d28e17f72")  // RFC 1321's "abc"
    }

    func testVerifiedDownloadIsExtractedThenServedFromTheCache() throws {
        let archive = try makeArchive()
        let steps = downloader(url: URL(fileURLWithPath: archive).absoluteString, md5: try Downloader.md5(ofFile: archive))
        let folder = try steps.fetch()
        XCTAssertEqual(folder, "\(directory)/cache/cifar10/cifar-10-batches-bin")
        let loaded = try CIFARBinary.load(directory: folder)
        XCTAssertEqual(loaded.dataset.labels, [3, 8])
        XCTAssertEqual(loaded.dataset.pixels(at: 1)[0], 20)
        // Only the extracted folder is left: no temporary archive, no staging folder.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/cache/cifar10"), ["cifar-10-batches-bin"])

        // Second call: the source is gone, yet the cached folder comes back without fetching.
        try FileManager.default.removeItem(atPath: archive)
        XCTAssertEqual(try steps.fetch(), folder)
    }

    func testChecksumMismatchDeletesTheDownloadAndSaysSo() throws {
        let archive = try makeArchive()
        let steps = downloader(url: URL(fileURLWithPath: archive).absoluteString, md5: DatasetDownload.cifar10.md5)
        XCTAssertThrowsError(try steps.fetch()) { error in
            let error = error as? PerceptError
            XCTAssertEqual(error?.kind, .corrupt)
            XCTAssertTrue(error?.reason.contains("expected c32a1d4ab5d03f1284b67883e8d87530") ?? false, "\(String(describing: error))")
            XCTAssertTrue(error?.reason.contains("the downloaded file was deleted") ?? false)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/cache/cifar10"), [])
        XCTAssertTrue(FileManager.default.fileExists(atPath: archive), "the source is not ours to delete")
    }

    func testImportingTheWrongArchiveKeepsItAndNamesIt() throws {
        let archive = try makeArchive()
        XCTAssertThrowsError(try DatasetDownload.cifar10.importArchive(archive, cacheRoot: "\(directory)/cache")) { error in
            XCTAssertEqual((error as? PerceptError)?.kind, .corrupt)
            XCTAssertEqual((error as? PerceptError)?.path, archive)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: archive))
    }

    func testUnreachableServerFailsFastWithOfflineAdvice() throws {
        // Port 9 (discard) on the loopback interface: nothing listens, the connection is refused.
        let steps = downloader(url: "http://127.0.0.1:9/cifar-10-binary.tar.gz", md5: DatasetDownload.cifar10.md5, timeout: 5)
        let start = Date()
        XCTAssertThrowsError(try steps.fetch()) { error in
            let error = error as? PerceptError
            XCTAssertEqual(error?.kind, .network)
            XCTAssertTrue(error?.reason.contains("percept dataset import /path/to/cifar-10-binary.tar.gz") ?? false,
                          "\(String(describing: error))")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 10)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "\(directory)/cache/cifar10"), [])
    }
}
