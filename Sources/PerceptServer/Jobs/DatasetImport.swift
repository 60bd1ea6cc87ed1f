import Foundation
import Percept
import PerceptCore
import PerceptData

/// What a finished import records about its dataset.
struct ImportedDataset: Sendable {
    var imageCount: Int
    var labelCounts: [DatasetStatus.LabelCount]
    var splitCounts: [String: Int]
    var warnings: [DatasetStatus.Warning]
    var problems: [DatasetStatus.Problem]
    var imageStatistics: ImageStatistics
}

/// An uploaded archive through Percept's own intake, as `percept dataset import` reads one:
/// libarchive (unsafe paths and links refused and named, decompression bounded by a budget),
/// layout detection, decoding, the AutoML inspection. The pack keeps the splits the source
/// assigned and leaves the rest unassigned: the dataset's `SplitPlan` (80/10/10 unless the user
/// edits it) divides them, seeded, so every run and evaluation sees the same test images.
enum DatasetImport {
    /// Photos are fitted to the largest default input of the families that train from pixels
    /// (64×64 for the CNN), or to the transfer family's when a backbone is registered (as
    /// `percept train` picks transfer for photos then); smaller images keep their size. Each run
    /// fits them further to its family.
    static var storedSizeLimit: ImageSize {
        if (try? BackboneStore().list().first) != nil { return TransferFamily.defaultInputSize }
        var largest = ImageSize(width: 32, height: 32)
        for family in ModelRegistry.families where family.name != TransferFamily.name {
            let size = family.defaultInputSize
            if size.width * size.height > largest.width * largest.height { largest = size }
        }
        return largest
    }

    /// The "images smaller than the model input" warning is against the default family's input (k-NN's).
    static var warningModelInput: ImageSize { KNearestNeighborsFamily.defaultInputSize }

    /// Imports `upload` (named `name` for every message) and writes its pack to `packPath` atomically.
    ///
    /// - Parameter byteBudget: the most bytes the archive may decompress to.
    /// - Throws: `PerceptError` for an unreadable archive or an unusable dataset (fewer than two labels, …).
    static func run(upload: URL, name: String, packPath: URL, byteBudget: Int,
                    progress: (Double) -> Void) throws -> ImportedDataset {
        let (entries, listingProblems) = try ArchiveReader.readAll(upload.path, byteBudget: byteBudget)
        progress(0.3)
        let tree = FileTree(archivePath: name, entries: entries, problems: listingProblems)
        return try run(tree: tree, name: name, hiding: upload, packPath: packPath, progress: progress)
    }

    /// Imports images dropped one by one, each with its label (`LabelledFiles` in `bundle`), as a
    /// folder per label held in memory: the labels name folders only inside that view, never on disk.
    static func run(bundle: URL, name: String, packPath: URL, progress: (Double) -> Void) throws -> ImportedDataset {
        let listing = try LabelledFiles.read(bundle)
        let entries = try listing.files.enumerated().map { position, file in
            // The position keeps two dropped files of the same name apart.
            ArchiveEntry(path: "\(file.label)/\(position + 1)-\(file.displayName)",
                         data: Array(try Data(contentsOf: bundle.appendingPathComponent(file.storedName))))
        }
        progress(0.3)
        return try run(tree: FileTree(archivePath: name, entries: entries), name: name, hiding: bundle, packPath: packPath,
                       progress: progress)
    }

    /// Imports a folder on the server machine as `percept dataset import` reads one.
    static func run(folder: String, name: String, packPath: URL, progress: (Double) -> Void) throws -> ImportedDataset {
        progress(0.1)
        return try run(tree: FileTree(directory: folder), name: name, hiding: URL(fileURLWithPath: folder), packPath: packPath,
                       progress: progress)
    }

    /// Decodes `tree`, writes the pack and inspects the result; `hiding` is the server path that
    /// messages show as `name`.
    static func run(tree: FileTree, name: String, hiding upload: URL, packPath: URL,
                    progress: (Double) -> Void) throws -> ImportedDataset {
        var options = ImportOptions(collectRecords: true)
        options.largestNaturalSize = storedSizeLimit
        let loaded = try DatasetLoader.load(tree: tree, options: options)
        progress(0.8)
        try PackFile.write(loaded.dataset, to: packPath.path)
        let assigned = try SplitPlan.standard.apply(to: loaded.dataset)
        // Inspected with the splits just assigned, so identical images in train and test show as leakage.
        var split = loaded
        split.dataset = assigned
        let assignedSplits = Dictionary(zip(assigned.sources, assigned.splits)) { first, _ in first }
        for index in split.files.indices {
            if let assignedSplit = assignedSplits[split.files[index].path] { split.files[index].split = assignedSplit }
        }
        let inspection = DatasetInspection(source: name, result: split, modelInput: warningModelInput)
        var warnings = inspection.warnings.map { DatasetStatus.Warning(kind: $0.kind, message: $0.message) }
        if let example = inspection.duplicateImages.first {
            let paths = example.paths.prefix(2).map { insidePath($0, upload: upload, name: name) }
            let count = inspection.duplicateImages.count
            warnings.append(DatasetStatus.Warning(kind: "duplicates",
                message: "\(count) \(count == 1 ? "image has" : "images have") identical copies (e.g. \(paths.joined(separator: " and "))); "
                    + "copies count twice in training and may leak into the test split"))
        }

        let counts = assigned.classCounts
        let splitCounts = SplitPlan.counts(assigned)
        let sourceAssigned = loaded.dataset.splits.filter { $0 != .unassigned }.count
        return ImportedDataset(
            imageCount: assigned.count,
            labelCounts: assigned.classNames.indices.map { DatasetStatus.LabelCount(name: assigned.classNames[$0], count: counts[$0]) },
            splitCounts: splitCounts,
            warnings: warnings,
            problems: loaded.problems.map {
                DatasetStatus.Problem(path: insidePath($0.path, upload: upload, name: name),
                                      reason: ClientMessage.hidingPath(upload.path, as: name, in: $0.reason))
            },
            imageStatistics: ImageStatistics(records: loaded.files, sourceAssignedImages: sourceAssigned))
    }

    /// A problem's path as the user knows it: the file inside the upload, or the dataset's name
    /// for problems about the whole archive.
    static func insidePath(_ path: String, upload: URL, name: String) -> String {
        for prefix in [upload.path + "/", name + ":"] where path.hasPrefix(prefix) {
            return String(path.dropFirst(prefix.count))
        }
        return path == upload.path ? name : ClientMessage.hidingPath(upload.path, as: name, in: path)
    }
}
