#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import PerceptCore

/// The files of a dataset, wherever they live: a folder on disk or the entries of an archive
/// read into memory. Folder, manifest and CIFAR layouts are recognised on this one view, so
/// "the same dataset, zipped" loads exactly like the folder it came from.
public struct FileTree: Sendable {
    /// One regular file: its path relative to the tree's root, split into components.
    public struct File: Sendable {
        public var components: [String]
        /// Where the bytes are: an absolute path on disk or an index into `entries`.
        var location: Location
        public var relativePath: String { components.joined(separator: "/") }
    }

    enum Location: Sendable {
        case disk(String)
        case entry(Int)
    }

    /// What the user pointed at (a folder or an archive), for messages.
    public let rootDescription: String
    public private(set) var files: [File]
    /// Every folder on disk, files or not, so that an empty label folder can be reported.
    private var folders: [[String]] = []
    /// Files that could not be listed (unreadable folders, names that are not UTF-8, unsafe
    /// archive paths): reported, never silently dropped.
    public private(set) var problems: [LoadProblem]
    let entries: [ArchiveEntry]
    private let diskRoot: String?
    /// Where this (sub)tree sits below the root the user named.
    public private(set) var prefix: [String] = []

    /// Lists every regular file under `directory`, recursively, in sorted order. Hidden files
    /// and folders (".DS_Store", ".git") are skipped: they are never training images. Symbolic
    /// links are followed once each — never in a loop, never to a file already listed, and to
    /// folders outside `directory` only with `followLinks` (see `DirectoryListing`); skipped
    /// links are problems.
    public init(directory: String, followLinks: Bool = false) {
        rootDescription = directory
        diskRoot = directory
        entries = []
        let listing = DirectoryListing(root: directory, followLinks: followLinks)
        files = listing.files
        folders = listing.folders
        problems = listing.problems
    }

    /// Files on disk given one by one (the images handed to `predict`), with no folder listed.
    init(diskFiles paths: [String], description: String) {
        rootDescription = description
        diskRoot = nil
        entries = []
        files = paths.map { File(components: [($0 as NSString).lastPathComponent], location: .disk($0)) }
        problems = []
    }

    /// Images held in memory, one by one and in the order given (a server's uploads); each is
    /// named by its `path` alone in messages.
    init(inMemory images: [ArchiveEntry]) {
        rootDescription = ""
        diskRoot = nil
        entries = images
        files = images.indices.map { File(components: [images[$0].path], location: .entry($0)) }
        problems = []
    }

    /// Wraps entries read from an archive; `archivePath` names them in messages.
    public init(archivePath: String, entries: [ArchiveEntry], problems: [LoadProblem] = []) {
        rootDescription = archivePath
        diskRoot = nil
        self.entries = entries
        var files: [File] = []
        for (index, entry) in entries.enumerated() {
            let components = entry.path.split(separator: "/").map(String.init).filter { $0 != "." }
            guard let last = components.last, !components.contains(where: { $0.hasPrefix(".") || $0 == "__MACOSX" }),
                  !last.isEmpty else { continue }
            files.append(File(components: components, location: .entry(index)))
        }
        self.files = files.sorted { $0.relativePath < $1.relativePath }
        self.problems = problems
    }

    /// A name for `file` that a user can find: the disk path, or `archive.zip:inner/path`.
    public func displayPath(_ file: File) -> String {
        switch file.location {
        case .disk(let path): return path
        case .entry(let index): return rootDescription.isEmpty ? entries[index].path : "\(rootDescription):\(entries[index].path)"
        }
    }

    /// The display path of a folder given by components (for messages about folders).
    public func displayPath(folder components: [String]) -> String {
        let relative = (prefix + components).joined(separator: "/")
        if let diskRoot { return relative.isEmpty ? diskRoot : "\(diskRoot)/\(relative)" }
        return relative.isEmpty ? rootDescription : "\(rootDescription):\(relative)/"
    }

    /// The tree below `folder` (its components removed from each path).
    public func subtree(_ folder: [String]) -> FileTree {
        var copy = self
        copy.files = files.compactMap { file in
            guard file.components.count > folder.count, Array(file.components.prefix(folder.count)) == folder else {
                return nil
            }
            var moved = file
            moved.components = Array(file.components.dropFirst(folder.count))
            return moved
        }
        copy.folders = folders.compactMap { path in
            path.count > folder.count && Array(path.prefix(folder.count)) == folder ? Array(path.dropFirst(folder.count)) : nil
        }
        copy.problems = []
        copy.prefix = prefix + folder
        return copy
    }

    /// A file on disk outside the listing (a manifest may name any path).
    public static func diskFile(_ path: String, components: [String]) -> File {
        File(components: components, location: .disk(path))
    }

    /// Whether the tree is a folder on disk (not an archive's entries).
    public var isOnDisk: Bool { diskRoot != nil }

    /// Names of the folders directly under the root, sorted.
    public var topLevelFolders: [String] {
        Array(Set(files.compactMap { $0.components.count > 1 ? $0.components[0] : nil }
                  + folders.compactMap { $0.first })).sorted()
    }

    /// Files directly under the root.
    public var topLevelFiles: [File] { files.filter { $0.components.count == 1 } }

    /// The bytes of `file` as an array.
    public func bytes(of file: File) throws -> [UInt8] {
        var scratch: [UInt8] = []
        return try withBytes(of: file, scratch: &scratch) { Array($0) }
    }

    // MARK: - Disk

    /// At most `limit` leading bytes of a file on disk (format sniffing).
    static func bytes(ofDiskFile path: String, limit: Int) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw PerceptError.io(path, "open failed: \(DirectoryListing.systemReason())")
        }
        defer { try? handle.close() }
        return Array((try? handle.read(upToCount: limit)) ?? Data())
    }
}
