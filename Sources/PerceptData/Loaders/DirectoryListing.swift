#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PerceptCore

/// The recursive listing behind `FileTree(directory:)`: every regular file and folder under a
/// root on disk, with symbolic links handled so that no image is listed twice and no walk
/// runs away.
///
/// Real files and folders are listed first. Symbolic links are followed afterwards, each once:
/// one that leads back into a folder above it (`cats/loop -> ..`) or to a folder or file already
/// listed is reported and skipped; a link to a folder outside the root is skipped unless
/// `followLinks` (as Keras' `follow_links`, which also governs folders only: a link to a single
/// file can neither loop nor multiply, so a folder of links into an image store still loads);
/// and files reached through a followed folder link whose device and inode were already
/// listed are not listed again.
struct DirectoryListing {
    /// A file or folder as the file system knows it, whatever path reached it.
    struct Identity: Hashable {
        var device: UInt64
        var inode: UInt64

        init(_ info: stat) {
            device = UInt64(truncatingIfNeeded: info.st_dev)
            inode = UInt64(truncatingIfNeeded: info.st_ino)
        }
    }

    /// A symbolic link met during the walk, followed once the real entries are all listed.
    private struct PendingLink {
        var path: String
        var components: [String]
        /// The folders from the root down to the one holding the link.
        var ancestors: [Identity]
    }

    private(set) var files: [FileTree.File] = []
    private(set) var folders: [[String]] = []
    private(set) var problems: [LoadProblem] = []
    private let followLinks: Bool
    /// The root with every link resolved, to tell links that stay inside it from those that leave.
    private let rootRealPath: String?
    private var listedFiles: [Identity: String] = [:]
    private var listedFolders: [Identity: String] = [:]
    private var pendingLinks: [PendingLink] = []

    init(root: String, followLinks: Bool) {
        self.followLinks = followLinks
        rootRealPath = DirectoryListing.realPath(root)
        var info = stat()
        guard stat(root, &info) == 0 else {
            problems.append(LoadProblem(path: root, reason: "cannot open folder: \(DirectoryListing.systemReason())"))
            return
        }
        let rootIdentity = Identity(info)
        listedFolders[rootIdentity] = root
        walk(root, components: [], ancestors: [rootIdentity], throughLink: false)
        guard !pendingLinks.isEmpty else { return }  // the walk's order is already the final one
        var next = 0
        while next < pendingLinks.count {  // following a folder link may queue more links
            follow(pendingLinks[next])
            next += 1
        }
        // Depth-first in name order, as if every followed link had been a real folder or file.
        files.sort { $0.components.lexicographicallyPrecedes($1.components) }
        folders.sort { $0.lexicographicallyPrecedes($1) }
    }

    /// Lists `directory` from its entries' raw names (`DirectoryEntries`), so a name that is not
    /// UTF-8 is reported rather than mangled.
    private mutating func walk(_ directory: String, components: [String], ancestors: [Identity], throughLink: Bool) {
        guard let rawNames = DirectoryEntries.rawNames(in: directory) else {
            problems.append(LoadProblem(path: directory, reason: "cannot open folder: \(Self.systemReason())"))
            return
        }
        var children: [(name: String, info: stat)] = []
        for rawName in rawNames {
            guard let name = String(validating: rawName, as: UTF8.self) else {
                let shown = String(decoding: rawName, as: UTF8.self)
                problems.append(LoadProblem(path: "\(directory)/\(shown)",
                                            reason: "file name is not valid UTF-8; rename it to load it"))
                continue
            }
            if name.hasPrefix(".") || name == "__MACOSX" { continue }
            var info = stat()
            let path = "\(directory)/\(name)"
            guard lstat(path, &info) == 0 else {
                problems.append(LoadProblem(path: path, reason: "cannot stat: \(Self.systemReason())"))
                continue
            }
            children.append((name, info))
        }
        for child in children.sorted(by: { $0.name < $1.name }) {
            let path = "\(directory)/\(child.name)"
            let childComponents = components + [child.name]
            switch child.info.st_mode & S_IFMT {
            case S_IFLNK:
                pendingLinks.append(PendingLink(path: path, components: childComponents, ancestors: ancestors))
            case S_IFDIR:
                // A real folder met twice is a bind mount; it is listed once all the same.
                if let reason = enter(folder: path, components: childComponents, identity: Identity(child.info),
                                      ancestors: ancestors, throughLink: throughLink) {
                    problems.append(LoadProblem(path: path, reason: "folder \(reason); skipped"))
                }
            case S_IFREG:
                let identity = Identity(child.info)
                // Below a followed link, a file already listed elsewhere is the same image: skip it.
                if throughLink, listedFiles[identity] != nil { continue }
                if listedFiles[identity] == nil { listedFiles[identity] = path }
                files.append(FileTree.diskFile(path, components: childComponents))
            default:
                continue  // sockets, pipes, devices: never images
            }
        }
    }

    /// Lists a folder unless it is one of its own ancestors (a loop) or was already listed.
    /// Returns the reason it was skipped, if it was.
    private mutating func enter(folder path: String, components: [String], identity: Identity, ancestors: [Identity],
                                throughLink: Bool) -> String? {
        if ancestors.contains(identity) {
            return "leads back to a folder above it (\(listedFolders[identity] ?? "an ancestor")), a loop"
        }
        if let listed = listedFolders[identity] {
            return "leads to a folder already listed (\(listed))"
        }
        listedFolders[identity] = path
        folders.append(components)
        walk(path, components: components, ancestors: ancestors + [identity], throughLink: throughLink)
        return nil
    }

    /// Follows one symbolic link, or reports why it was skipped.
    private mutating func follow(_ link: PendingLink) {
        func skip(_ reason: String) {
            problems.append(LoadProblem(path: link.path, reason: "symbolic link \(reason); skipped"))
        }
        var info = stat()
        guard stat(link.path, &info) == 0, let target = Self.realPath(link.path) else {
            skip("to a target that cannot be reached (\(Self.systemReason()))")
            return
        }
        let identity = Identity(info)
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            if !followLinks, let root = rootRealPath, !Self.isInside(target, root: root) {
                skip("leads to a folder outside the dataset folder (\(target)); pass --follow-links to follow it")
                return
            }
            if let reason = enter(folder: link.path, components: link.components, identity: identity,
                                  ancestors: link.ancestors, throughLink: true) {
                skip(reason)
            }
        case S_IFREG:
            if let listed = listedFiles[identity] {
                skip("leads to a file already listed (\(listed))")
                return
            }
            listedFiles[identity] = link.path
            files.append(FileTree.diskFile(link.path, components: link.components))
        default:
            return
        }
    }

    private static func isInside(_ path: String, root: String) -> Bool {
        path == root || root == "/" || path.hasPrefix(root + "/")
    }

    /// The path with every link resolved, or nil when it cannot be (missing target, loop).
    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The system's words for the last failed call (`strerror(errno)`).
    static func systemReason() -> String {
        String(cString: strerror(errno))
    }
}
