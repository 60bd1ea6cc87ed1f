import Crypto
import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PerceptCore

/// `percept dataset download cifar10|cifar100`: fetches an official binary release once,
/// checks it against its published MD5, and extracts it into a cache folder.
///
/// The steps are ordered so that nothing half-done is ever mistaken for a dataset: the archive
/// goes to a temporary file, is verified, is extracted into a staging folder, and only the
/// finished folder is renamed into place. A folder that is in place is therefore complete, and
/// later calls return it without touching the network.
public enum DatasetDownload: String, Sendable, CaseIterable {
    case cifar10, cifar100

    /// The dataset author's own copy (Krizhevsky, University of Toronto).
    public var url: String {
        switch self {
        case .cifar10: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
        case .cifar100: "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz"
        }
    }

    /// The MD5 published beside the link on https://www.cs.toronto.edu/~kriz/cifar.html
    /// (the same values torchvision and tensorflow-datasets check).
    public var md5: String {
        switch self {
        case .cifar10: "c32a1d4ab5d03f1284b67883e8d87530"
        case .cifar100: "03b5dce01913d631647c71ecec9e9cb8"
        }
    }

    public var archiveName: String { (url as NSString).lastPathComponent }

    /// The folder the archive extracts to, which `CIFARBinary.load(directory:)` reads.
    public var folderName: String {
        switch self {
        case .cifar10: "cifar-10-batches-bin"
        case .cifar100: "cifar-100-binary"
        }
    }

    /// `~/.cache/percept`.
    public static var defaultCacheRoot: String {
        FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/percept").path
    }

    /// `<root>/<name>`, e.g. `~/.cache/percept/cifar10`; the extracted folder goes inside.
    public func cacheDirectory(root: String? = nil) -> String {
        "\(root ?? Self.defaultCacheRoot)/\(rawValue)"
    }

    /// Returns the extracted release folder, downloading and extracting it first unless it is
    /// already in the cache.
    ///
    /// Blocks the calling thread while downloading (about 170 MB).
    /// - Parameter timeout: how long the server may stay silent before giving up; without a
    ///   network the call fails within about this long.
    /// - Throws: `.network` (with what to do offline), `.corrupt` on an MD5 mismatch (the file
    ///   is deleted), `.io` when the cache cannot be written.
    public func fetch(cacheRoot: String? = nil, timeout: TimeInterval = 10) throws -> String {
        try downloader(cacheRoot: cacheRoot, timeout: timeout).fetch()
    }

    /// Installs an archive fetched some other way (`percept dataset import file.tar.gz`):
    /// verifies its MD5 and extracts it into the cache. The archive itself is left alone.
    public func importArchive(_ path: String, cacheRoot: String? = nil) throws -> String {
        try downloader(cacheRoot: cacheRoot, timeout: 10).install(archive: path, downloaded: false)
    }

    func downloader(cacheRoot: String?, timeout: TimeInterval) -> Downloader {
        Downloader(name: rawValue, url: url, md5: md5, archiveName: archiveName, folderName: folderName,
                   cacheDirectory: cacheDirectory(root: cacheRoot), timeout: timeout)
    }
}

/// The steps of a download, for any archive: separate from `DatasetDownload` so tests can aim
/// them at a local archive with a known MD5.
struct Downloader: Sendable {
    var name: String
    var url: String
    var md5: String
    var archiveName: String
    var folderName: String
    var cacheDirectory: String
    var timeout: TimeInterval

    var extractedFolder: String { "\(cacheDirectory)/\(folderName)" }

    func fetch() throws -> String {
        if let cached = cachedFolder() { return cached }
        try createCacheDirectory()
        let temporary = "\(cacheDirectory)/.\(archiveName).download-\(ProcessInfo.processInfo.processIdentifier)"
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        try transfer(to: temporary)
        return try install(archive: temporary, downloaded: true)
    }

    /// The extracted folder, if an earlier run finished; it only ever appears by rename, complete.
    func cachedFolder() -> String? {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: extractedFolder, isDirectory: &isDirectory)
        return exists && isDirectory.boolValue ? extractedFolder : nil
    }

    /// Verifies `archive` and extracts it into the cache; `downloaded` archives are ours to delete.
    func install(archive: String, downloaded: Bool) throws -> String {
        let actual = try Self.md5(ofFile: archive)
        guard actual == md5.lowercased() else {
            if downloaded {
                try? FileManager.default.removeItem(atPath: archive)
                throw PerceptError.corrupt(url, "checksum mismatch: the download's MD5 is \(actual), expected \(md5); the downloaded file was deleted — try again")
            }
            throw PerceptError.corrupt(archive, "checksum mismatch: MD5 is \(actual), expected \(md5) for the official \(archiveName); the file is damaged or a different release")
        }
        try createCacheDirectory()
        let staging = "\(cacheDirectory)/.extract-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: staging)
        defer { try? FileManager.default.removeItem(atPath: staging) }
        try ArchiveReader.extract(archive, to: staging)
        let extracted = "\(staging)/\(folderName)"
        guard FileManager.default.fileExists(atPath: extracted) else {
            throw PerceptError.invalidData("the archive has no \(folderName)/ folder", path: archive)
        }
        if cachedFolder() == nil, rename(extracted, extractedFolder) != 0 {
            throw PerceptError.io(extractedFolder, "cannot move the extracted files into place: \(String(cString: strerror(errno)))")
        }
        return extractedFolder
    }

    private func createCacheDirectory() throws {
        do {
            try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        } catch {
            throw PerceptError.io(cacheDirectory, "cannot create the cache folder: \(error.localizedDescription)")
        }
    }

    /// What to tell someone whose machine cannot reach the server.
    var offlineAdvice: String {
        "Without network access, download \(archiveName) elsewhere and run `percept dataset import /path/to/\(archiveName)`, "
            + "or point Percept at an extracted folder (\(folderName))."
    }

    /// Copies `url` to `destination`.
    func transfer(to destination: String) throws {
        guard let remote = URL(string: url) else { throw PerceptError.invalidArgument("not a URL: \(url)") }
        if remote.isFileURL {
            // A local mirror (or a test); swift-corelibs URLSession does not read file URLs.
            do {
                try? FileManager.default.removeItem(atPath: destination)
                try FileManager.default.copyItem(atPath: remote.path, toPath: destination)
                return
            } catch {
                throw PerceptError(.network, path: url, "cannot copy: \(error.localizedDescription). \(offlineAdvice)")
            }
        }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout  // silence allowed between bytes
        configuration.timeoutIntervalForResource = 6 * 3600  // the whole transfer, on a slow line
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let outcome = TransferOutcome()
        let finished = DispatchSemaphore(value: 0)
        let task = session.downloadTask(with: remote) { [url, offlineAdvice] location, response, error in
            // URLSession deletes `location` when this handler returns: move the file now.
            defer { finished.signal() }
            if let error {
                outcome.set(PerceptError(.network, path: url, "cannot download: \(error.localizedDescription). \(offlineAdvice)"))
                return
            }
            if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
                outcome.set(PerceptError(.network, path: url, "the server answered HTTP \(http.statusCode). \(offlineAdvice)"))
                return
            }
            guard let location else {
                outcome.set(PerceptError(.network, path: url, "the download produced no file. \(offlineAdvice)"))
                return
            }
            do {
                try? FileManager.default.removeItem(atPath: destination)
                try FileManager.default.moveItem(at: location, to: URL(fileURLWithPath: destination))
            } catch {
                outcome.set(PerceptError.io(destination, "cannot keep the download: \(error.localizedDescription)"))
            }
        }
        task.resume()
        finished.wait()
        if let error = outcome.error { throw error }
    }

    /// Hex MD5 of a file, read in 4 MiB pieces so a 170 MB archive never sits in memory.
    static func md5(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw PerceptError.io(path, "cannot open") }
        defer { try? handle.close() }
        var hasher = Insecure.MD5()
        do {
            while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
        } catch {
            throw PerceptError.io(path, "cannot read: \(error.localizedDescription)")
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// The error (if any) a download's completion handler reports back to the waiting thread.
private final class TransferOutcome: @unchecked Sendable {
    // Guarded by `lock`; written once by the handler, read after the semaphore.
    private let lock = NSLock()
    private var stored: PerceptError?

    func set(_ error: PerceptError) { lock.withLock { stored = error } }
    var error: PerceptError? { lock.withLock { stored } }
}
