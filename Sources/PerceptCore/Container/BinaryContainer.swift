import Foundation

/// The one framing every Percept file shares — dataset packs, model files, training
/// checkpoints (`ContainerKind`):
///
///     offset  size  field                               (integers little-endian)
///     0       8     magic, one per kind ("PRCPTPAK", "PRCPTMDL", "PRCPTCKP")
///     8       4     format version (2; version 1 was each kind's own layout, read by its legacy reader)
///     12      4     reserved (zero)
///     16      8     file length in bytes (catches truncation before anything else is read)
///     24      8     header length H; 32 + H is a multiple of 64
///     32      H     header: UTF-8 JSON {"arrays": [table], "content": {the kind's own description}},
///                   padded with spaces; each table row is name, type, shape, offset, byteCount
///     32+H    …     the arrays, each starting on a 64-byte boundary (offsets count from 32 + H)
///     end-16  4     CRC-32 (zlib) of every byte before it
///     end-12  4     reserved (zero)
///     end-8   8     end magic "PRCPTEND"
///
/// The header is JSON so a person can read what a file is with any tool; the arrays are raw
/// and aligned so a 150 MB pack is memory-mapped and used in place.
public enum BinaryContainer {
    /// The format version this Percept writes and the newest it reads.
    public static let formatVersion: UInt32 = 2
    public static let endMagic = Array("PRCPTEND".utf8)
    /// Every array starts at a multiple of this many bytes (a cache line; SIMD loads need no more).
    public static let alignment = 64
    static let prefixSize = 32
    static let trailerSize = 16

    struct Header<Content: Encodable>: Encodable {
        var arrays: [ContainerArrayEntry]
        var content: Content
    }

    // MARK: - Writing

    /// Writes a container atomically (temporary file, then rename), streaming the arrays from
    /// where they are. `beforeEachWrite` (tests) sees the bytes written so far and may throw.
    public static func write(_ kind: ContainerKind, content: some Encodable, arrays: [ContainerArray],
                             to path: String, beforeEachWrite: ((Int) throws -> Void)? = nil) throws {
        let pieces = try layout(kind, content: content, arrays: arrays)
        try AtomicFile.write(to: path) { handle in
            var written = 0
            try ContainerEmitter.emit(pieces) { chunk in
                try beforeEachWrite?(written)
                try handle.write(contentsOf: chunk)
                written += chunk.count
            }
        }
    }

    /// The container's bytes in memory (small files, tests).
    public static func encode(_ kind: ContainerKind, content: some Encodable, arrays: [ContainerArray]) throws -> Data {
        var file = Data()
        try ContainerEmitter.emit(try layout(kind, content: content, arrays: arrays)) { file.append($0) }
        return file
    }

    /// The file as pieces in order: prefix and header, each array after its padding, the trailer.
    static func layout(_ kind: ContainerKind, content: some Encodable, arrays: [ContainerArray]) throws -> [ContainerEmitter.Piece] {
        var entries: [ContainerArrayEntry] = []
        var offset = 0
        for array in arrays {
            guard !entries.contains(where: { $0.name == array.name }) else {
                throw PerceptError.invalidArgument("two arrays are named '\(array.name)' in one \(kind.noun)")
            }
            let entry = ContainerArrayEntry(name: array.name, type: array.type, shape: array.shape, offset: offset,
                                            byteCount: array.byteCount)
            guard let count = entry.elementCount, count * array.type.size == array.byteCount else {
                throw PerceptError.invalidArgument(
                    "the array '\(array.name)' has shape \(array.shape) but \(array.byteCount) bytes of \(array.type)")
            }
            entries.append(entry)
            offset = aligned(offset + array.byteCount)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var header = [UInt8](try encoder.encode(Header(arrays: entries, content: content)))
        // Spaces are still valid JSON, and put the first array on a 64-byte boundary.
        header += [UInt8](repeating: 0x20, count: aligned(prefixSize + header.count) - prefixSize - header.count)
        let arraysStart = prefixSize + header.count
        let fileLength = arraysStart + offset + trailerSize

        var prefix = ByteWriter()
        prefix.append(kind.magicBytes)
        prefix.append(formatVersion)
        prefix.append(UInt32(0))
        prefix.append(UInt64(fileLength))
        prefix.append(UInt64(header.count))
        var pieces: [ContainerEmitter.Piece] = [.bytes(prefix.bytes + header)]
        var position = 0
        for (entry, array) in zip(entries, arrays) {
            if entry.offset > position { pieces.append(.zeros(entry.offset - position)) }
            pieces.append(.array(array))
            position = entry.offset + entry.byteCount
        }
        if offset > position { pieces.append(.zeros(offset - position)) }
        var trailer = ByteWriter()
        trailer.append(UInt32(truncatingIfNeeded: ContainerEmitter.checksum(pieces)))
        trailer.append(UInt32(0))
        trailer.append(endMagic)
        pieces.append(.bytes(trailer.bytes))
        return pieces
    }

    static func aligned(_ offset: Int) -> Int { (offset + alignment - 1) / alignment * alignment }

    // MARK: - Opening

    /// A file opened as a container: in this format, or in its kind's older own layout.
    public enum Opened {
        case current(ContainerFile)
        /// Format version 1 (before the shared framing): the kind's legacy reader takes the bytes.
        case legacy(version: UInt32, bytes: FileBytes)
    }

    /// Memory-maps `path` and checks it is a `kind` container: magic, version, length, end
    /// marker, checksum (unless `verifyChecksum` is false) and the array table.
    ///
    /// - Throws: `.io` when it cannot be read; `.unsupported` for another kind of file or a
    ///   newer version; `.corrupt` for truncation, damage or a table that does not fit.
    public static func open(_ path: String, as kind: ContainerKind, verifyChecksum: Bool = true) throws -> Opened {
        try open(FileBytes(mapping: path, prefault: verifyChecksum, noun: kind.noun), path: path, as: kind,
                 verifyChecksum: verifyChecksum)
    }

    /// The same for bytes in memory; `path` names them in errors.
    public static func open(_ bytes: FileBytes, path: String, as kind: ContainerKind,
                            verifyChecksum: Bool = true) throws -> Opened {
        let magic = kind.magicBytes
        guard bytes.matches(magic, at: 0) else {
            if let other = ContainerKind.all.first(where: { bytes.matches($0.magicBytes, at: 0) }) {
                throw PerceptError.unsupported(path, "this is a \(other.noun), not a \(kind.noun); \(other.advice)")
            }
            if bytes.count < magic.count, magic.starts(with: bytes[0..<bytes.count]) {
                throw PerceptError.corrupt(path, "truncated: \(bytes.count) bytes is shorter than any \(kind.noun)")
            }
            throw PerceptError.unsupported(path, "not a Percept \(kind.noun) (it does not start with \"\(kind.magic)\")")
        }
        guard bytes.count >= 12 else {
            throw PerceptError.corrupt(path, "truncated: \(bytes.count) bytes is shorter than any \(kind.noun)")
        }
        let version: UInt32 = bytes.integer(at: 8)
        guard version <= formatVersion else {
            throw PerceptError.unsupported(path,
                "\(kind.noun) format version \(version) is newer than this Percept (reads \(formatVersion)); upgrade Percept")
        }
        guard version >= 1 else { throw PerceptError.corrupt(path, "\(kind.noun) format version 0 does not exist") }
        if version < formatVersion { return .legacy(version: version, bytes: bytes) }
        return .current(try ContainerFile(bytes, path: path, kind: kind, verifyChecksum: verifyChecksum))
    }
}
