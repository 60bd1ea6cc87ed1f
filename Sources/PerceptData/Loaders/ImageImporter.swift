import Crypto
import Foundation
import PerceptCore
import PerceptImage

/// One image file to import: where it is, its class and the split its source gave it.
public struct ImportItem: Sendable {
    public var file: FileTree.File
    public var label: Int32
    public var split: Split

    public init(file: FileTree.File, label: Int32, split: Split) {
        self.file = file
        self.label = label
        self.split = split
    }
}

/// What Percept learnt about one file while importing it (for `dataset inspect`).
public struct ImageFileRecord: Sendable {
    public var path: String
    public var label: Int32
    public var split: Split
    public var byteCount: Int
    /// Header facts; nil when the file could not be decoded.
    public var info: ImageInfo?
    /// SHA-256 of the file's bytes (exact duplicate files) and of the fitted pixels
    /// (the same picture saved twice, e.g. once in train and once in test).
    public var fileDigest: String?
    public var pixelDigest: String?
    /// Why the file was not imported, if it was not.
    public var failure: String?
}

/// How images become dataset rows.
public struct ImportOptions: Sendable {
    /// The size every image is fitted to; nil takes the size of the first readable image.
    public var imageSize: ImageSize?
    public var resizeMode: ResizeMode
    /// Stop at the first bad file instead of reporting it and going on.
    public var strict: Bool
    /// Worker threads for decoding; nil uses every core.
    public var threads: Int?
    /// Keep a record per file (header info and digests) for inspection; costs a hash per file.
    public var collectRecords: Bool
    /// For CIFAR-100: the 100 fine or the 20 coarse classes.
    public var cifar100Labels: CIFARBinary.CIFAR100Labels
    /// Follow symbolic links to folders outside the dataset folder (Keras' `follow_links`).
    /// Links inside it, and links to single files, are always followed, once; loops never.
    public var followLinks: Bool
    /// When `imageSize` is nil and image files are decoded: a first image larger than this in
    /// either side (a camera photo) makes every image fitted to this size instead of to the
    /// first image's (a model family's default input). Packs and CIFAR keep their size.
    public var largestNaturalSize: ImageSize?

    public init(imageSize: ImageSize? = nil, resizeMode: ResizeMode = .squash, strict: Bool = false,
                threads: Int? = nil, collectRecords: Bool = false, cifar100Labels: CIFARBinary.CIFAR100Labels = .fine,
                followLinks: Bool = false) {
        self.cifar100Labels = cifar100Labels
        self.followLinks = followLinks
        self.imageSize = imageSize
        self.resizeMode = resizeMode
        self.strict = strict
        self.threads = threads
        self.collectRecords = collectRecords
    }
}

/// Image files decoded to a model's input size (`ImageImporter.decode(files:…)`).
public struct DecodedFiles: Sendable {
    /// The readable files, in the order given; nil when none could be read.
    public var dataset: Dataset?
    /// For each item of `dataset`, its index among the files given.
    public var readable: [Int]
    /// Why each other file could not be read, by its index among the files given.
    public var failures: [Int: String]
}

/// Decodes a list of image files into a `Dataset` on every core: the one intake path, for
/// `dataset import`, training and `predict` alike.
///
/// Each worker owns a decoder and a read buffer and writes its images straight into their
/// final place in one pixel buffer (`DecodedBatch`), so the only copy is decode → resize → destination.
/// Files that fail are recorded and skipped; the survivors are compacted in order.
public enum ImageImporter {
    /// Decodes image files (any size, PNG or JPEG) fitted to `size`, for a model trained on
    /// `classNames` (every item gets label 0). An unreadable file is named in `failures` and
    /// the others go on; with `strict`, the first one (in the order given) is thrown instead.
    public static func decode(files paths: [String], size: ImageSize, resizeMode: ResizeMode, classNames: [String],
                              strict: Bool = false, threads: Int? = nil) throws -> DecodedFiles {
        guard !paths.isEmpty else { return DecodedFiles(dataset: nil, readable: [], failures: [:]) }
        return try decode(FileTree(diskFiles: paths, description: "the files given"), size: size, resizeMode: resizeMode,
                          classNames: classNames, strict: strict, threads: threads)
    }

    /// Decodes images already in memory (a server's uploads), as `decode(files:…)` decodes files:
    /// the same order, failures by index, nothing written to disk. Messages name each image by its `path`.
    public static func decode(inMemory images: [ArchiveEntry], size: ImageSize, resizeMode: ResizeMode,
                              classNames: [String], strict: Bool = false, threads: Int? = nil) throws -> DecodedFiles {
        guard !images.isEmpty else { return DecodedFiles(dataset: nil, readable: [], failures: [:]) }
        return try decode(FileTree(inMemory: images), size: size, resizeMode: resizeMode, classNames: classNames,
                          strict: strict, threads: threads)
    }

    private static func decode(_ tree: FileTree, size: ImageSize, resizeMode: ResizeMode, classNames: [String],
                               strict: Bool, threads: Int?) throws -> DecodedFiles {
        let items = tree.files.map { ImportItem(file: $0, label: 0, split: .unassigned) }
        let options = ImportOptions(imageSize: size, resizeMode: resizeMode, strict: strict, threads: threads)
        let imported = try importImages(items, from: tree, classNames: classNames, options: options)
        var failures: [Int: String] = [:]
        for (index, reason) in imported.failures { failures[index] = reason }
        return DecodedFiles(dataset: imported.readable.isEmpty ? nil : imported.dataset, readable: imported.readable,
                            failures: failures)
    }

    static func importImages(_ items: [ImportItem], from tree: FileTree, classNames: [String],
                             options: ImportOptions) throws -> (dataset: Dataset, problems: [LoadProblem],
                                                                records: [ImageFileRecord], readable: [Int],
                                                                failures: [(index: Int, reason: String)]) {
        guard !items.isEmpty else {
            throw PerceptError.invalidData("no image files found", path: tree.rootDescription)
        }
        let size = try options.imageSize ?? naturalSize(items, tree: tree, options: options)
        let stride = size.pixelCount * Image.channels
        let batch = DecodedBatch(records: items.map {
            ImageFileRecord(path: tree.displayPath($0.file), label: $0.label, split: $0.split, byteCount: 0)
        }, stride: stride)
        Parallel.forEachChunk(count: items.count, threads: options.threads, chunksPerThread: 16) { range in
            let decoder = ImageDecoder()
            var scratch: [UInt8] = []
            for index in range {
                do {
                    try tree.withBytes(of: items[index].file, scratch: &scratch) { bytes in
                        let (image, info) = try decoder.decode(bytes, path: batch[record: index].path)
                        let fitted = image.resized(to: size, mode: options.resizeMode)
                        batch.store(fitted.pixels, at: index)
                        batch[record: index].byteCount = bytes.count
                        if options.collectRecords {
                            batch[record: index].info = info
                            batch[record: index].fileDigest = digest(bytes)
                            batch[record: index].pixelDigest = digest(fitted.pixels)
                        }
                    }
                } catch let error as PerceptError {
                    batch[record: index].failure = error.reason
                } catch {
                    batch[record: index].failure = "\(error)"
                }
            }
        }

        let records = batch.allRecords
        let failures = records.indices.compactMap { index in records[index].failure.map { (index: index, reason: $0) } }
        let problems = failures.map { LoadProblem(path: records[$0.index].path, reason: $0.reason) }
        if options.strict, let first = problems.first {
            throw PerceptError.corrupt(first.path, first.reason + " (stopped: --strict)")
        }
        // Compact the survivors to the front, keeping their order.
        let kept = items.indices.filter { records[$0].failure == nil }
        let storage = batch.storage(keeping: kept)
        let dataset = try Dataset(height: size.height, width: size.width, channels: Image.channels, pixels: storage,
                                  labels: kept.map { items[$0].label }, classNames: classNames,
                                  sources: kept.map { records[$0].path }, splits: kept.map { items[$0].split })
        return (dataset, problems, options.collectRecords ? records : [], kept, failures)
    }

    /// The input size when none was asked for: the first readable image's, unless it exceeds
    /// `largestNaturalSize` in either side.
    private static func naturalSize(_ items: [ImportItem], tree: FileTree, options: ImportOptions) throws -> ImageSize {
        let first = try firstReadableSize(items, tree: tree, strict: options.strict)
        guard let largest = options.largestNaturalSize, first.width > largest.width || first.height > largest.height else {
            return first
        }
        return largest
    }

    /// The size of the first image that decodes.
    private static func firstReadableSize(_ items: [ImportItem], tree: FileTree, strict: Bool) throws -> ImageSize {
        let decoder = ImageDecoder()
        var scratch: [UInt8] = []
        for item in items {
            do {
                return try tree.withBytes(of: item.file, scratch: &scratch) { bytes in
                    let info = try decoder.probe(bytes, path: tree.displayPath(item.file))
                    // EXIF orientations 5–8 swap width and height.
                    return info.orientation >= 5 ? ImageSize(width: info.height, height: info.width)
                                                 : ImageSize(width: info.width, height: info.height)
                }
            } catch {
                if strict { throw error }
            }
        }
        throw PerceptError.invalidData("none of the \(items.count) image files could be decoded",
                                       path: tree.rootDescription)
    }

    /// The first 128 bits of SHA-256 as hex: plenty to tell files apart, and cheap to compare.
    /// Hex digits are looked up, not formatted: this runs twice per file during inspection.
    static func digest<Bytes: DataProtocol>(_ bytes: Bytes) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(32)
        for byte in SHA256.hash(data: bytes).prefix(16) {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
