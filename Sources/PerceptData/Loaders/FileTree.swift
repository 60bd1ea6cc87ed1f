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
        fileprivate var location: Location
        public var relativePath: String { components.joined(separator: "/") }
    }

    fileprivate enum Location: Sendable {
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
    private let entries: [ArchiveEntry]
    private let diskRoot: String?
    /// Where this (sub)tree sits below the root the user named.
    public private(set) var prefix: [String] = []

    /// Lists every regular file under `directory`, recursively, in sorted order. Hidden files
    /// and folders (".DS_Store", ".git") are skipped: they are never training images.
    public init(directory: String) {
        rootDescription = directory
        diskRoot = directory
        entries = []
        var files: [File] = []
        var problems: [LoadProblem] = []
        var folders: [[String]] = []
        FileTree.walk(directory, components: [], into: &files, folders: &folders, problems: &problems)
        self.files = files
        self.folders = folders
        self.problems = problems
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
        case .entry(let index): return "\(rootDescription):\(entries[index].path)"
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

    /// The bytes of `file`, through `body`, without copying archive entries. `scratch` is a
    /// reusable buffer for disk reads so a decoding thread allocates once, not once per file.
    public func withBytes<R>(of file: File, scratch: inout [UInt8],
                             _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        switch file.location {
        case .entry(let index):
            return try entries[index].data.withUnsafeBytes(body)
        case .disk(let path):
            let count = try FileTree.readFile(path, into: &scratch)
            return try scratch.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
    }

    /// The bytes of `file` as an array.
    public func bytes(of file: File) throws -> [UInt8] {
        var scratch: [UInt8] = []
        return try withBytes(of: file, scratch: &scratch) { Array($0) }
    }

    // MARK: - Disk

    /// At most `limit` leading bytes of a file on disk (format sniffing).
    static func bytes(ofDiskFile path: String, limit: Int) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw PerceptError.io(path, "cannot open for reading")
        }
        defer { try? handle.close() }
        return Array((try? handle.read(upToCount: limit)) ?? Data())
    }

    /// Reads a whole file with POSIX calls into `buffer` (grown as needed); returns its length.
    /// Plain `read` into a reused buffer is several times cheaper than `Data(contentsOf:)` for
    /// the tens of thousands of 1 KB files a dataset folder holds.
    static func readFile(_ path: String, into buffer: inout [UInt8]) throws -> Int {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw PerceptError.io(path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw PerceptError.io(path, "cannot stat: \(String(cString: strerror(errno)))") }
        let size = Int(info.st_size)
        if buffer.count < size + 1 { buffer = [UInt8](repeating: 0, count: max(size + 1, 64 * 1024)) }
        var total = 0
        while true {
            let got = buffer.withUnsafeMutableBytes { raw in
                read(fd, raw.baseAddress! + total, raw.count - total)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw PerceptError.io(path, "read failed: \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            total += got
            if total == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
        }
        return total
    }

    /// Recursive listing with `opendir`/`readdir`, which hand back a name's raw bytes:
    /// Foundation would silently mangle a name that is not UTF-8 into one that cannot be opened.
    private static func walk(_ directory: String, components: [String], into files: inout [File],
                             folders: inout [[String]], problems: inout [LoadProblem]) {
        guard let handle = opendir(directory) else {
            problems.append(LoadProblem(path: directory, reason: "cannot open folder: \(String(cString: strerror(errno)))"))
            return
        }
        var children: [(name: String, isDirectory: Bool)] = []
        while let entry = readdir(handle) {
            let rawName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            guard let name = String(validating: rawName, as: UTF8.self) else {
                let shown = String(decoding: rawName, as: UTF8.self)
                problems.append(LoadProblem(path: "\(directory)/\(shown)",
                                            reason: "file name is not valid UTF-8; rename it to load it"))
                continue
            }
            if name.hasPrefix(".") || name == "__MACOSX" { continue }
            var info = stat()
            let path = "\(directory)/\(name)"
            guard stat(path, &info) == 0 else {
                problems.append(LoadProblem(path: path, reason: "cannot stat: \(String(cString: strerror(errno)))"))
                continue
            }
            let kind = info.st_mode & S_IFMT
            if kind == S_IFDIR { children.append((name, true)) } else if kind == S_IFREG { children.append((name, false)) }
        }
        closedir(handle)
        for child in children.sorted(by: { $0.name < $1.name }) {
            let path = "\(directory)/\(child.name)"
            if child.isDirectory {
                folders.append(components + [child.name])
                walk(path, components: components + [child.name], into: &files, folders: &folders, problems: &problems)
            } else {
                files.append(File(components: components + [child.name], location: .disk(path)))
            }
        }
    }
}
