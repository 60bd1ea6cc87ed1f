import Foundation
import PerceptCore
import PerceptImage

/// AutoML's label statistics and more: what a dataset holds and what is wrong with it,
/// before any model is trained on it.
public struct DatasetInspection: Sendable, Codable {
    public struct ClassStatistics: Sendable, Codable {
        public var name: String
        public var count: Int
        /// Items per split name ("train", "validation", "test", "unassigned"), only non-zero ones.
        public var splits: [String: Int]
    }

    /// A group of items that are the same: identical files, or identical pictures.
    public struct DuplicateGroup: Sendable, Codable {
        public var paths: [String]
        /// The splits the copies sit in; more than one means the evaluation leaks.
        public var splits: [String]
        /// The labels the copies carry; more than one means a labelling mistake.
        public var labels: [String]
    }

    public struct Warning: Sendable, Codable {
        /// A stable key for scripts: "few-images", "imbalance", "small-images", "leakage",
        /// "conflicting-labels", "unreadable".
        public var kind: String
        public var message: String
    }

    public var source: String
    public var layout: String
    public var imageCount: Int
    public var storedSize: String
    public var classes: [ClassStatistics]
    /// Original image sizes ("640x480") and how many files have each, most common first.
    public var imageSizes: [String: Int]
    /// Colour modes ("jpeg rgb", "png palette+transparency 8-bit") and counts.
    public var colorModes: [String: Int]
    public var duplicateFiles: [DuplicateGroup]
    public var duplicateImages: [DuplicateGroup]
    public var problems: [LoadProblem]
    public var notes: [String]
    public var warnings: [Warning]

    /// The lecture's AutoML warning threshold: fewer images than this per label is too few.
    public static let minimumImagesPerLabel = 100
    /// Largest class over smallest class at or above this ratio is reported as imbalance.
    public static let imbalanceRatio = 3.0

    /// Loads `path` as a dataset and inspects it. `modelInput` is the size a model will use,
    /// for the "images much smaller than the model input" warning.
    /// With `strict`, the first unreadable file is thrown instead of listed; `followLinks` as in `ImportOptions`.
    public static func inspect(_ path: String, modelInput: ImageSize? = nil, threads: Int? = nil,
                               strict: Bool = false, followLinks: Bool = false) throws -> DatasetInspection {
        let options = ImportOptions(imageSize: modelInput, strict: strict, threads: threads, collectRecords: true,
                                    followLinks: followLinks)
        let result = try DatasetLoader.load(path, options: options)
        return DatasetInspection(source: path, result: result, modelInput: modelInput)
    }

    public init(source: String, result: LoadResult, modelInput: ImageSize?) {
        let dataset = result.dataset
        self.source = source
        layout = result.layout?.rawValue ?? "unknown"
        imageCount = dataset.count
        storedSize = "\(dataset.width)x\(dataset.height)"
        problems = result.problems
        notes = result.notes

        var perClassSplits = [[String: Int]](repeating: [:], count: dataset.classCount)
        for (label, split) in zip(dataset.labels, dataset.splits) {
            perClassSplits[Int(label)][split.description, default: 0] += 1
        }
        let counts = dataset.classCounts
        classes = dataset.classNames.indices.map {
            ClassStatistics(name: dataset.classNames[$0], count: counts[$0], splits: perClassSplits[$0])
        }

        let records = result.files.filter { $0.failure == nil }
        if records.isEmpty {
            // Packs and CIFAR batches hold decoded pixels: one size, one mode.
            imageSizes = [storedSize: dataset.count]
            colorModes = ["rgb 8-bit": dataset.count]
        } else {
            imageSizes = records.reduce(into: [:]) { sizes, record in
                guard let info = record.info else { return }
                sizes["\(info.width)x\(info.height)", default: 0] += 1
            }
            colorModes = records.reduce(into: [:]) { modes, record in
                guard let info = record.info else { return }
                modes["\(info.format.rawValue) \(info.colorMode) \(info.bitDepth)-bit", default: 0] += 1
            }
        }
        let names = dataset.classNames
        duplicateFiles = Self.groups(records, key: \.fileDigest, names: names)
        duplicateImages = Self.groups(records, key: \.pixelDigest, names: names)
        warnings = Self.warnings(classes: classes, records: records, problems: problems,
                                 duplicateImages: duplicateImages, modelInput: modelInput)
    }

    /// The leakage warning for `dataset` as its splits stand now — identical stored images in more
    /// than one split — or nil: for a dataset whose splits were changed after it was inspected.
    public static func leakageWarning(in dataset: Dataset) -> Warning? {
        let records = (0..<dataset.count).map { index in
            var record = ImageFileRecord(path: dataset.sources[index], label: dataset.labels[index],
                                         split: dataset.splits[index], byteCount: 0)
            record.pixelDigest = ImageImporter.digest(dataset.image(at: index).pixels)
            return record
        }
        return leakageWarning(groups(records, key: \.pixelDigest, names: dataset.classNames))
    }

    private static func leakageWarning(_ duplicateImages: [DuplicateGroup]) -> Warning? {
        let leaks = duplicateImages.filter { $0.splits.count > 1 }
        guard let first = leaks.first else { return nil }
        return Warning(kind: "leakage", message: "\(leaks.count) images appear in more than one split (e.g. "
            + "\(first.paths.prefix(2).joined(separator: " and "))); evaluation on them is not honest")
    }

    private static func groups(_ records: [ImageFileRecord], key: KeyPath<ImageFileRecord, String?>,
                               names: [String]) -> [DuplicateGroup] {
        var byKey: [String: [ImageFileRecord]] = [:]
        for record in records {
            if let digest = record[keyPath: key] { byKey[digest, default: []].append(record) }
        }
        return byKey.values.filter { $0.count > 1 }.map { copies in
            DuplicateGroup(paths: copies.map(\.path).sorted(),
                           splits: Array(Set(copies.map(\.split.description))).sorted(),
                           labels: Array(Set(copies.map { names.indices.contains(Int($0.label)) ? names[Int($0.label)] : "?" })).sorted())
        }.sorted { $0.paths[0] < $1.paths[0] }
    }

    private static func warnings(classes: [ClassStatistics], records: [ImageFileRecord], problems: [LoadProblem],
                                 duplicateImages: [DuplicateGroup], modelInput: ImageSize?) -> [Warning] {
        var warnings: [Warning] = []
        for item in classes where item.count < minimumImagesPerLabel {
            warnings.append(Warning(kind: "few-images",
                message: "label '\(item.name)' has \(item.count) images; at least \(minimumImagesPerLabel) per label are recommended"))
        }
        if let largest = classes.map(\.count).max(), let smallest = classes.map(\.count).min(), smallest > 0,
           Double(largest) / Double(smallest) >= imbalanceRatio {
            let big = classes.first { $0.count == largest }?.name ?? "?"
            let small = classes.first { $0.count == smallest }?.name ?? "?"
            warnings.append(Warning(kind: "imbalance",
                message: "classes are imbalanced: '\(big)' has \(largest) images, '\(small)' only \(smallest) (\(String(format: "%.1f", Double(largest) / Double(smallest)))×)"))
        }
        if let modelInput {
            let small = records.filter { record in
                guard let info = record.info else { return false }
                return info.width * 2 <= modelInput.width || info.height * 2 <= modelInput.height
            }.count
            if small > 0 {
                warnings.append(Warning(kind: "small-images",
                    message: "\(small) images are at most half the model input \(modelInput) in width or height; they will be upscaled and blurry"))
            }
        }
        if let leakage = leakageWarning(duplicateImages) { warnings.append(leakage) }
        let conflicts = duplicateImages.filter { $0.labels.count > 1 }
        if !conflicts.isEmpty {
            warnings.append(Warning(kind: "conflicting-labels",
                message: "\(conflicts.count) identical images carry different labels (e.g. \(conflicts[0].paths.prefix(2).joined(separator: " and ")))"))
        }
        if !problems.isEmpty {
            warnings.append(Warning(kind: "unreadable",
                message: "\(problems.count) files or rows could not be used (listed under problems)"))
        }
        return warnings
    }
}
