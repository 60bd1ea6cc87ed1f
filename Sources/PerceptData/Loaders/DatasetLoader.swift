import Foundation
import PerceptCore
import PerceptImage

/// How a dataset was laid out where Percept found it.
public enum DatasetLayout: String, Sendable, Codable {
    /// One subfolder per label (Create ML, Keras, AutoML).
    case folderPerLabel = "folder-per-label"
    /// `train/`, `val/`, `test/` folders, each with one subfolder per label.
    case splitFolders = "split-folders"
    /// A CSV manifest `[split,]path,label`.
    case manifest
    case cifar10 = "cifar-10-binary"
    case cifar100 = "cifar-100-binary"
    /// Percept's own pack file.
    case pack
}

/// Loads a dataset from whatever the user points at, recognising the layout:
/// a pack file, a folder (one subfolder per label, or train/val/test folders of those),
/// a CSV manifest, the CIFAR-10/100 binary release, or any of these inside a
/// `.zip`, `.tar` or `.tar.gz`.
public enum DatasetLoader {
    /// Folder names that mean a split rather than a label (case-insensitive).
    static let splitFolderNames: [String: Split] = [
        "train": .train, "training": .train,
        "val": .validation, "valid": .validation, "validation": .validation, "dev": .validation,
        "test": .test, "testing": .test,
    ]
    static let archiveSuffixes = [".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz"]

    public static func load(_ path: String, options: ImportOptions = ImportOptions()) throws -> LoadResult {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw PerceptError.io(path, "no such file or folder")
        }
        if isDirectory.boolValue {
            return try load(tree: FileTree(directory: path, followLinks: options.followLinks), options: options)
        }
        let lowered = path.lowercased()
        if archiveSuffixes.contains(where: { lowered.hasSuffix($0) }) {
            let (entries, problems) = try ArchiveReader.readAll(path)
            return try load(tree: FileTree(archivePath: path, entries: entries, problems: problems), options: options)
        }
        if lowered.hasSuffix(".csv") {
            let folder = (path as NSString).deletingLastPathComponent
            let tree = FileTree(directory: folder.isEmpty ? "." : folder, followLinks: options.followLinks)
            return try ManifestLoader.load(manifest: FileTree.diskFile(path, components: [(path as NSString).lastPathComponent]),
                                           in: tree, options: options)
        }
        let head = try FileTree.bytes(ofDiskFile: path, limit: 16)
        if head.starts(with: PackFile.magic) {
            var result = LoadResult(dataset: try fitted(try PackFile.load(path), options), problems: [], notes: [])
            result.layout = .pack
            return result
        }
        if ImageFormat.sniff(head) != .unknown {
            throw PerceptError.invalidArgument(
                "\(path) is a single image; point Percept at a folder with one subfolder per label (or a CSV manifest)")
        }
        throw PerceptError.unsupported(path,
            "not a dataset Percept recognises: expected a folder, a .csv manifest, a .pack file or a .zip/.tar/.tar.gz archive")
    }

    /// Recognises the layout of a listed tree and loads it.
    public static func load(tree original: FileTree, options: ImportOptions) throws -> LoadResult {
        let tree = unwrapSingleFolder(original)
        if let cifar = try loadCIFAR(tree, options: options) {
            return withListingProblems(cifar, original)
        }
        let folders = tree.topLevelFolders
        let csvFiles = tree.topLevelFiles.filter { $0.relativePath.lowercased().hasSuffix(".csv") }
        // A CSV beside at most one folder (the images it lists) is a manifest; several label
        // folders win over a stray CSV.
        let hasSplitFolders = folders.contains { splitFolderNames[$0.lowercased()] != nil }
        if folders.isEmpty || (csvFiles.count == 1 && folders.count <= 1 && !hasSplitFolders) {
            guard let manifest = csvFiles.first else {
                throw PerceptError.invalidData(
                    "no label folders found: put each class's images in a subfolder named after the label (e.g. cat/, dog/)",
                    path: tree.rootDescription)
            }
            guard csvFiles.count == 1 else {
                throw PerceptError.invalidData(
                    "several CSV files (\(csvFiles.map(\.relativePath).joined(separator: ", "))); name the manifest to use",
                    path: tree.rootDescription)
            }
            return withListingProblems(try ManifestLoader.load(manifest: manifest, in: tree, options: options), original)
        }
        return withListingProblems(try loadFolders(tree, options: options), original)
    }

    /// Folder-per-label or split folders of folder-per-label.
    static func loadFolders(_ tree: FileTree, options: ImportOptions) throws -> LoadResult {
        let folders = tree.topLevelFolders
        let splitFolders = folders.filter { splitFolderNames[$0.lowercased()] != nil }
        var problems: [LoadProblem] = []
        var notes: [String] = []
        // (split, label folder name, files)
        var groups: [(split: Split, label: String, files: [FileTree.File], folder: [String])] = []
        let layout: DatasetLayout
        if !splitFolders.isEmpty {
            layout = .splitFolders
            for other in folders where splitFolderNames[other.lowercased()] == nil {
                problems.append(LoadProblem(path: tree.displayPath(folder: [other]),
                                            reason: "folder beside train/val/test is not a split; skipped"))
            }
            for splitName in splitFolders {
                let split = splitFolderNames[splitName.lowercased()] ?? .unassigned
                let sub = tree.subtree([splitName])
                for file in sub.topLevelFiles {
                    problems.append(LoadProblem(path: tree.displayPath(folder: [splitName, file.relativePath]),
                                                reason: "file is not inside a label folder; skipped"))
                }
                for label in sub.topLevelFolders {
                    groups.append((split, label, sub.subtree([label]).files, [splitName, label]))
                }
            }
        } else {
            layout = .folderPerLabel
            for file in tree.topLevelFiles {
                problems.append(LoadProblem(path: tree.displayPath(file), reason: "file is not inside a label folder; skipped"))
            }
            for label in folders {
                groups.append((.unassigned, label, tree.subtree([label]).files, [label]))
            }
        }
        // Empty label folders are reported, and the label exists only if some split has images of it.
        for group in groups where group.files.isEmpty {
            problems.append(LoadProblem(path: tree.displayPath(folder: group.folder), reason: "empty label folder; skipped"))
        }
        let classNames = Array(Set(groups.filter { !$0.files.isEmpty }.map(\.label))).sorted()
        let classIndex = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, Int32($0)) })
        var items: [ImportItem] = []
        for group in groups {
            guard let label = classIndex[group.label] else { continue }
            items += group.files.map { ImportItem(file: $0, label: label, split: group.split) }
        }
        if layout == .splitFolders, !splitFolders.contains(where: { splitFolderNames[$0.lowercased()] == .validation }) {
            notes.append("no validation folder: a validation split will be carved from train when one is needed")
        }
        return try finish(items: items, classNames: classNames, tree: tree, layout: layout,
                          problems: problems, notes: notes, options: options)
    }

    /// Decodes the items and applies the rules every image layout shares: strict mode,
    /// classes that lost all their images, at least two classes.
    static func finish(items: [ImportItem], classNames: [String], tree: FileTree, layout: DatasetLayout,
                       problems listed: [LoadProblem], notes: [String], options: ImportOptions) throws -> LoadResult {
        if options.strict, let first = listed.first {
            throw PerceptError.invalidData(first.reason + " (stopped: --strict)", path: first.path)
        }
        try requireTwoClasses(classNames, at: tree.rootDescription)
        let imported = try ImageImporter.importImages(items, from: tree, classNames: classNames, options: options)
        var dataset = imported.dataset
        var problems = listed + imported.problems
        let counts = dataset.classCounts
        let emptied = classNames.indices.filter { counts[$0] == 0 }
        if !emptied.isEmpty {
            for index in emptied {
                problems.append(LoadProblem(path: tree.rootDescription,
                                            reason: "label '\(classNames[index])' has no readable images; dropped"))
            }
            dataset = try dataset.droppingEmptyClasses()
            try requireTwoClasses(dataset.classNames, at: tree.rootDescription)
        }
        var result = LoadResult(dataset: dataset, problems: problems, notes: notes)
        result.layout = layout
        result.files = imported.records
        return result
    }

    static func requireTwoClasses(_ classNames: [String], at path: String) throws {
        guard classNames.count >= 2 else {
            let found = classNames.isEmpty ? "no labels" : "only one label ('\(classNames[0])')"
            throw PerceptError.invalidData(
                "found \(found); a classifier needs images of at least two labels, one folder (or manifest label) each",
                path: path)
        }
    }

    /// Archives and downloads often wrap everything in one folder (`cifar10/train/...`):
    /// look inside while the root holds nothing but a single folder that is not a split.
    static func unwrapSingleFolder(_ tree: FileTree) -> FileTree {
        var tree = tree
        while tree.topLevelFiles.isEmpty, tree.topLevelFolders.count == 1,
              let only = tree.topLevelFolders.first, splitFolderNames[only.lowercased()] == nil {
            let inner = tree.subtree([only])
            // A lone label folder full of images is a (one-class) dataset, not a wrapper.
            guard !inner.topLevelFolders.isEmpty || inner.topLevelFiles.contains(where: { isMetadataFile($0) }) else {
                break
            }
            tree = inner
        }
        return tree
    }

    static func isMetadataFile(_ file: FileTree.File) -> Bool {
        let name = file.relativePath.lowercased()
        return name.hasSuffix(".csv") || name.hasSuffix(".bin") || name.hasSuffix(".txt")
    }

    /// The CIFAR-10/100 binary release, recognised by its batch file names anywhere in the tree.
    static func loadCIFAR(_ tree: FileTree, options: ImportOptions) throws -> LoadResult? {
        let batchNames: Set<String> = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
                                       "data_batch_5.bin", "test_batch.bin", "train.bin", "test.bin"]
        let batches = tree.files.filter { batchNames.contains($0.components.last ?? "") }
        guard let first = batches.first else { return nil }
        let folder = Array(first.components.dropLast())
        var result: LoadResult
        if tree.isOnDisk {
            result = try CIFARBinary.load(directory: tree.displayPath(folder: folder), labels: options.cifar100Labels,
                                          strict: options.strict)
        } else {
            let entries = try tree.files.filter { Array($0.components.dropLast()) == folder }.map {
                ArchiveEntry(path: $0.relativePath, data: try tree.bytes(of: $0))
            }
            result = try CIFARBinary.load(entries: entries, labels: options.cifar100Labels, strict: options.strict,
                                          archiveName: tree.displayPath(folder: folder))
        }
        let isCIFAR10 = batches.contains { ($0.components.last ?? "").hasPrefix("data_batch") || $0.components.last == "test_batch.bin" }
        result.dataset = try fitted(result.dataset, options)
        result.layout = isCIFAR10 ? .cifar10 : .cifar100
        return result
    }

    /// Decoded datasets (packs, CIFAR) are resized only when a different size was asked for.
    static func fitted(_ dataset: Dataset, _ options: ImportOptions) throws -> Dataset {
        guard let size = options.imageSize, size != dataset.imageSize else { return dataset }
        return try dataset.resized(to: size, mode: options.resizeMode, threads: options.threads)
    }

    private static func withListingProblems(_ result: LoadResult, _ tree: FileTree) -> LoadResult {
        var result = result
        result.problems = tree.problems + result.problems
        return result
    }
}
