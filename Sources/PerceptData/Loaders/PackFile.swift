import Foundation
import PerceptCore

/// Percept's own dataset file (`.pack`): decoded pixels ready to memory-map, so a dataset that
/// took a minute to decode from 50,000 JPEGs reopens in a fraction of a second.
///
/// A `BinaryContainer` of kind `.pack` (magic "PRCPTPAK"). The header's content is N, H, W, C
/// and the class names; the arrays, in this order:
///
///     pixels   uint8  [N, H, W, C]   first, so they start right after the header
///     labels   int32  [N]
///     splits   uint8  [N]            `Split.rawValue`
///     sources  uint8  [bytes]        each source as a UInt32 byte count + UTF-8 bytes
///
/// `load` hands out a pointer into the map: the dataset's pixels are the file's bytes, never
/// copied. Packs written before the shared container (format version 1) load through
/// `LegacyPackFile`.
public enum PackFile {
    public static let magic = Array(ContainerKind.pack.magic.utf8)
    /// The format version this Percept writes and the newest it reads.
    public static let formatVersion = BinaryContainer.formatVersion

    struct Description: Codable {
        var count: Int
        var height: Int
        var width: Int
        var channels: Int
        var classNames: [String]
    }

    // MARK: - Writing

    /// Writes `dataset` to `path` atomically (temporary file, then rename), streaming the
    /// pixels from where they already are; only the small arrays are built in memory.
    public static func write(_ dataset: Dataset, to path: String) throws {
        try write(dataset, to: path, beforeEachWrite: nil)
    }

    /// `beforeEachWrite` (tests only) is called with the bytes written so far and may throw,
    /// to check what a failure halfway through leaves behind.
    static func write(_ dataset: Dataset, to path: String, beforeEachWrite: ((Int) throws -> Void)?) throws {
        let description = Description(count: dataset.count, height: dataset.height, width: dataset.width,
                                      channels: dataset.channels, classNames: dataset.classNames)
        var sources = ByteWriter()
        for source in dataset.sources {
            let utf8 = Array(source.utf8)
            sources.append(UInt32(utf8.count))
            sources.append(utf8)
        }
        let arrays = [
            ContainerArray("pixels", shape: [dataset.count, dataset.height, dataset.width, dataset.channels],
                           borrowing: dataset.pixels.borrowedBytes),
            ContainerArray("labels", shape: [dataset.count], int32s: dataset.labels),
            ContainerArray("splits", bytes: dataset.splits.map(\.rawValue)),
            ContainerArray("sources", bytes: sources.bytes),
        ]
        try BinaryContainer.write(.pack, content: description, arrays: arrays, to: path, beforeEachWrite: beforeEachWrite)
    }

    // MARK: - Loading

    /// Memory-maps a pack; the dataset's pixels point into the map, which is unmapped when the
    /// last copy of the dataset goes away.
    ///
    /// - Parameter verifyChecksum: compare the CRC-32 of the whole file (≈0.04 s for 150 MB on
    ///   two cores); off, the pixels are not even read until used.
    /// - Throws: `.unsupported` for a file that is not a pack or is from a newer Percept;
    ///   `.corrupt` for truncation, a checksum mismatch or arrays that do not fit; `.io`
    ///   when the file cannot be opened.
    public static func load(_ path: String, verifyChecksum: Bool = true) throws -> Dataset {
        switch try BinaryContainer.open(path, as: .pack, verifyChecksum: verifyChecksum) {
        case .legacy(_, let bytes):
            return try LegacyPackFile.load(bytes, path: path, verifyChecksum: verifyChecksum)
        case .current(let file):
            return try load(file)
        }
    }

    private static func load(_ file: ContainerFile) throws -> Dataset {
        let path = file.path
        let description = try file.content(as: Description.self)
        let count = description.count, height = description.height, width = description.width
        let channels = description.channels
        guard count >= 0, height > 0, width > 0, channels > 0, height <= 1 << 16, width <= 1 << 16, channels <= 64 else {
            throw PerceptError.corrupt(path, "impossible image size \(width)x\(height)x\(channels) for \(count) items")
        }
        let pixels = try file.entry("pixels", type: .uint8, shape: [count, height, width, channels])
        let labels = file.int32s(try file.entry("labels", type: .int32, shape: [count]))
        let splitMarks = file.uint8s(try file.entry("splits", type: .uint8, shape: [count]))
        var splits: [Split] = []
        splits.reserveCapacity(count)
        for (index, raw) in splitMarks.enumerated() {
            guard let split = Split(rawValue: raw) else {
                throw PerceptError.corrupt(path, "item \(index) has split mark \(raw), which is not a split")
            }
            splits.append(split)
        }
        let sourceBytes = file.range(of: try file.entry("sources", type: .uint8))
        var strings = ByteReader(file.bytes, path: path, offset: sourceBytes.lowerBound)
        let sources = try (0..<count).map { _ in try strings.string() }
        guard strings.offset <= sourceBytes.upperBound else {
            throw PerceptError.corrupt(path, "the sources run past their array")
        }
        do {
            // The map lives as long as the pixels.
            return try Dataset(height: height, width: width, channels: channels,
                               pixels: PixelStorage(borrowing: file.range(of: pixels), of: file.bytes), labels: labels,
                               classNames: description.classNames, sources: sources, splits: splits)
        } catch let error as PerceptError {
            throw PerceptError.corrupt(path, "inconsistent contents: \(error.reason)")
        }
    }
}
