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
}

/// An uploaded archive through Percept's own intake, as `percept dataset import` reads one:
/// libarchive (unsafe paths and links refused and named, decompression bounded by a budget),
/// layout detection, decoding, the AutoML inspection, then the standard 80/10/10 splits
/// fixed into a pack file so every run and evaluation sees the same test images.
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
        var options = ImportOptions(collectRecords: true)
        options.largestNaturalSize = storedSizeLimit
        let loaded = try DatasetLoader.load(tree: tree, options: options)
        progress(0.8)
        let (assigned, _) = try loaded.dataset.withStandardSplits(seed: 0)
        try PackFile.write(assigned, to: packPath.path)
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
        let splitCounts = assigned.splits.reduce(into: [String: Int]()) { $0[$1.description, default: 0] += 1 }
        return ImportedDataset(
            imageCount: assigned.count,
            labelCounts: assigned.classNames.indices.map { DatasetStatus.LabelCount(name: assigned.classNames[$0], count: counts[$0]) },
            splitCounts: splitCounts,
            warnings: warnings,
            problems: loaded.problems.map {
                DatasetStatus.Problem(path: insidePath($0.path, upload: upload, name: name),
                                      reason: ClientMessage.hidingPath(upload.path, as: name, in: $0.reason))
            })
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
