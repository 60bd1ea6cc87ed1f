#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CZlib
import Foundation
import PerceptCore

/// Percept's own dataset file (`.pack`): decoded pixels ready to memory-map, so a dataset that
/// took a minute to decode from 50,000 JPEGs reopens in a fraction of a second.
///
/// Layout (all integers little-endian):
///
///     offset  size  field
///     0       8     magic "PRCPTPAK"
///     8       4     format version (1)
///     12      4     header size (128)
///     16      8     file length in bytes (catches truncation before anything else is read)
///     24      8     N, items
///     32      4×4   H, W, C, number of classes
///     48      8+8   pixels   offset, length   — N×H×W×C bytes, offset a multiple of 4096
///     64      8+8   labels   offset, length   — N × Int32
///     80      8+8   splits   offset, length   — N × UInt8 (`Split.rawValue`)
///     96      8+8   metadata offset, length   — class names then sources, each a UInt32
///                                               byte count + UTF-8 bytes
///     112     16    reserved (zero)
///     …             sections, in the order above
///     end-16  4     CRC-32 (zlib) of every byte before it
///     end-12  4     reserved (zero)
///     end-8   8     end magic "PRCPTEND"
///
/// The pixel section is page-aligned so `load` can hand out a pointer into the map: the
/// dataset's pixels are the file's bytes, never copied.
public enum PackFile {
    public static let magic = Array("PRCPTPAK".utf8)
    public static let endMagic = Array("PRCPTEND".utf8)
    /// The format version this Percept writes and the newest it reads.
    public static let formatVersion: UInt32 = 1
    static let headerSize = 128
    static let trailerSize = 16
    static let pixelAlignment = 4096

    // MARK: - Writing

    /// Writes `dataset` to `path` atomically (temporary file, then rename), streaming the
    /// pixels from where they already are; only the small sections are built in memory.
    public static func write(_ dataset: Dataset, to path: String) throws {
        try write(dataset, to: path, beforeEachWrite: nil)
    }

    /// `beforeEachWrite` (tests only) is called with the bytes written so far and may throw,
    /// to check what a failure halfway through leaves behind.
    static func write(_ dataset: Dataset, to path: String, beforeEachWrite: ((Int) throws -> Void)?) throws {
        let count = dataset.count
        let tail = encodeSections(dataset)  // labels, splits, metadata
        let pixelsOffset = pixelAlignment
        let pixelsLength = dataset.pixels.count
        let labelsOffset = pixelsOffset + pixelsLength
        let splitsOffset = labelsOffset + 4 * count
        let metadataOffset = splitsOffset + count
        let metadataLength = tail.count - 5 * count
        let fileLength = metadataOffset + metadataLength + trailerSize

        var header = ByteWriter()
        header.append(magic)
        header.append(formatVersion)
        header.append(UInt32(headerSize))
        for value in [fileLength, count] { header.append(UInt64(value)) }
        for value in [dataset.height, dataset.width, dataset.channels, dataset.classCount] { header.append(UInt32(value)) }
        for value in [pixelsOffset, pixelsLength, labelsOffset, 4 * count, splitsOffset, count, metadataOffset, metadataLength] {
            header.append(UInt64(value))
        }
        header.bytes += [UInt8](repeating: 0, count: pixelsOffset - header.bytes.count)

        // The checksum is assembled from the parts as they are written: the pixels are
        // checksummed in place, on every core.
        var crc = header.bytes.withUnsafeBytes { checksum($0) }
        crc = crc32_combine(crc, parallelChecksum(dataset.pixels.bytes), off_t(pixelsLength))
        crc = crc32_combine(crc, tail.withUnsafeBytes { checksum($0) }, off_t(tail.count))
        var trailer = ByteWriter()
        trailer.append(UInt32(truncatingIfNeeded: crc))
        trailer.append(UInt32(0))
        trailer.append(endMagic)

        try AtomicFile.write(to: path) { handle in
            var written = 0
            func emit(_ bytes: UnsafeRawBufferPointer) throws {
                try beforeEachWrite?(written)
                guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
                // No copy: Data borrows the bytes for the duration of the call.
                try handle.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base),
                                                  count: bytes.count, deallocator: .none))
                written += bytes.count
            }
            try header.bytes.withUnsafeBytes { try emit($0) }
            let pixels = dataset.pixels.bytes
            let chunk = 16 << 20
            for start in stride(from: 0, to: pixels.count, by: chunk) {
                try emit(UnsafeRawBufferPointer(rebasing: pixels[start..<min(start + chunk, pixels.count)]))
            }
            try tail.withUnsafeBytes { try emit($0) }
            try trailer.bytes.withUnsafeBytes { try emit($0) }
        }
    }

    /// Labels, split marks and metadata, laid out back to back as they follow the pixels.
    private static func encodeSections(_ dataset: Dataset) -> [UInt8] {
        var out = ByteWriter()
        for label in dataset.labels { out.append(UInt32(bitPattern: label)) }
        out.bytes += dataset.splits.map(\.rawValue)
        for text in dataset.classNames + dataset.sources {
            let utf8 = Array(text.utf8)
            out.append(UInt32(utf8.count))
            out.bytes += utf8
        }
        return out.bytes
    }

    // MARK: - Loading

    /// Memory-maps a pack; the dataset's pixels point into the map, which is unmapped when the
    /// last copy of the dataset goes away.
    ///
    /// - Parameter verifyChecksum: compare the CRC-32 of the whole file (≈0.1 s for 150 MB on
    ///   two cores); off, the pixels are not even read until used.
    /// - Throws: `.unsupported` for a file that is not a pack or is from a newer Percept;
    ///   `.corrupt` for truncation, a checksum mismatch or sections that do not fit; `.io`
    ///   when the file cannot be opened.
    public static func load(_ path: String, verifyChecksum: Bool = true) throws -> Dataset {
        let map = try MappedFile(path: path, prefault: verifyChecksum)
        let file = map.bytes
        guard file.count >= magic.count, file.starts(with: magic) else {
            throw PerceptError.unsupported(path, "not a Percept pack file (it does not start with \"PRCPTPAK\")")
        }
        var reader = ByteReader(bytes: file, path: path)
        reader.offset = magic.count
        let version = try reader.uint32()
        guard version <= formatVersion else {
            throw PerceptError.unsupported(path,
                "pack format version \(version) is newer than this Percept (reads \(formatVersion)); upgrade Percept")
        }
        guard version >= 1 else { throw PerceptError.corrupt(path, "pack format version 0 does not exist") }
        let declaredHeaderSize = try reader.int32()
        let fileLength = try reader.int64()
        guard file.count >= fileLength else {
            throw PerceptError.corrupt(path, "truncated: the file is \(file.count) bytes, its header says \(fileLength)")
        }
        guard file.count == fileLength, declaredHeaderSize == headerSize, fileLength >= headerSize + trailerSize else {
            throw PerceptError.corrupt(path, "the file is \(file.count) bytes, its header says \(fileLength) (header size \(declaredHeaderSize))")
        }
        let trailerOffset = fileLength - trailerSize
        guard file[(fileLength - endMagic.count)...].elementsEqual(endMagic) else {
            throw PerceptError.corrupt(path, "the end marker \"PRCPTEND\" is missing: the file was cut short or overwritten")
        }
        if verifyChecksum {
            var trailer = ByteReader(bytes: file, path: path)
            trailer.offset = trailerOffset
            let stored = try trailer.uint32()
            let computed = UInt32(truncatingIfNeeded: parallelChecksum(UnsafeRawBufferPointer(rebasing: file[0..<trailerOffset])))
            guard stored == computed else {
                throw PerceptError.corrupt(path, "checksum mismatch (stored \(hex(stored)), computed \(hex(computed))): the file is damaged; write it again from the source images")
            }
        }

        let count = try reader.int64()
        let height = try reader.int32(), width = try reader.int32(), channels = try reader.int32()
        let classCount = try reader.int32()
        let imageBytes = height.multipliedReportingOverflow(by: width).partialValue * channels
        let (pixelBytes, overflow) = count.multipliedReportingOverflow(by: imageBytes)
        guard !overflow, height > 0, width > 0, channels > 0, height <= 1 << 16, width <= 1 << 16, channels <= 64 else {
            throw PerceptError.corrupt(path, "impossible image size \(width)x\(height)x\(channels) for \(count) items")
        }
        // Every section must lie between the header and the trailer and have the size N implies.
        func section(_ name: String, expectedLength: Int?) throws -> UnsafeRawBufferPointer {
            let offset = try reader.int64(), length = try reader.int64()
            guard offset >= headerSize, length <= trailerOffset, offset <= trailerOffset - length,
                  expectedLength.map({ $0 == length }) ?? true else {
                throw PerceptError.corrupt(path, "the \(name) section (offset \(offset), \(length) bytes) does not fit the file")
            }
            return UnsafeRawBufferPointer(rebasing: file[offset..<(offset + length)])
        }
        let pixels = try section("pixels", expectedLength: pixelBytes)
        let labelBytes = try section("labels", expectedLength: 4 * count)
        let splitBytes = try section("splits", expectedLength: count)
        let metadata = try section("metadata", expectedLength: nil)

        let labels = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer[i] = Int32(littleEndian: labelBytes.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
            initialized = count
        }
        var splits: [Split] = []
        splits.reserveCapacity(count)
        for (index, raw) in splitBytes.enumerated() {
            guard let split = Split(rawValue: raw) else {
                throw PerceptError.corrupt(path, "item \(index) has split mark \(raw), which is not a split")
            }
            splits.append(split)
        }
        var strings = ByteReader(bytes: metadata, path: path)
        let classNames = try (0..<classCount).map { _ in try strings.string() }
        let sources = try (0..<count).map { _ in try strings.string() }

        // The map lives as long as the pixels: the release closure holds the last reference.
        let storage = PixelStorage(bytes: pixels) { _ in withExtendedLifetime(map) {} }
        do {
            return try Dataset(height: height, width: width, channels: channels, pixels: storage, labels: labels,
                               classNames: classNames, sources: sources, splits: splits)
        } catch let error as PerceptError {
            throw PerceptError.corrupt(path, "inconsistent contents: \(error.reason)")
        }
    }

    // MARK: - Checksums

    /// zlib's CRC-32, fed in pieces its 32-bit length parameter can take.
    static func checksum(_ bytes: UnsafeRawBufferPointer, startingFrom crc: UInt = 0) -> UInt {
        var crc = crc
        var start = 0
        while start < bytes.count, let base = bytes.baseAddress {
            let length = min(bytes.count - start, 1 << 30)
            crc = crc32(crc, base.assumingMemoryBound(to: UInt8.self) + start, UInt32(length))
            start += length
        }
        return crc
    }

    /// The same CRC-32, computed on every core: each core checksums a slice and zlib's
    /// `crc32_combine` joins the results exactly as if one pass had run.
    static func parallelChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt {
        let slices = max(1, min(Parallel.defaultThreadCount, bytes.count / (8 << 20)))
        var parts = [UInt](repeating: 0, count: slices)
        parts.withUnsafeMutableBufferPointer { output in
            nonisolated(unsafe) let output = output
            Parallel.forEachChunk(count: slices) { range in
                for slice in range {
                    let start = bytes.count * slice / slices, end = bytes.count * (slice + 1) / slices
                    output[slice] = checksum(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                }
            }
        }
        var crc = parts[0]
        for slice in 1..<slices {
            let length = bytes.count * (slice + 1) / slices - bytes.count * slice / slices
            crc = crc32_combine(crc, parts[slice], off_t(length))
        }
        return crc
    }

    private static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16, uppercase: false) }
}

// MARK: - Byte plumbing

/// Appends little-endian integers and raw bytes.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func append(_ raw: [UInt8]) { bytes += raw }
    mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}

/// Reads little-endian integers and length-prefixed strings, failing as `.corrupt` (never
/// trapping) when the bytes run out: every length it is given comes from the file.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    var offset = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    private mutating func take(_ count: Int) throws -> Int {
        guard count >= 0, count <= bytes.count - offset else {
            throw PerceptError.corrupt(path, "truncated: needed \(count) more bytes at offset \(offset) of \(bytes.count)")
        }
        defer { offset += count }
        return offset
    }

    mutating func uint32() throws -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(4), as: UInt32.self))
    }

    mutating func int32() throws -> Int { Int(try uint32()) }

    mutating func int64() throws -> Int {
        let value = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: try take(8), as: UInt64.self))
        guard value <= UInt64(Int.max) else { throw PerceptError.corrupt(path, "value \(value) at offset \(offset - 8) is out of range") }
        return Int(value)
    }

    mutating func string() throws -> String {
        let length = try int32()
        let start = try take(length)
        guard let text = String(validating: bytes[start..<(start + length)], as: UTF8.self) else {
            throw PerceptError.corrupt(path, "the text at offset \(start) is not UTF-8")
        }
        return text
    }
}

/// A whole file mapped read-only (private, so nobody else's later writes show through);
/// unmapped when the last reference goes.
final class MappedFile: @unchecked Sendable {
    // Immutable after init; the mapping is read-only, so sharing between threads is safe.
    let bytes: UnsafeRawBufferPointer

    /// - Parameter prefault: map the pages in up front (Linux `MAP_POPULATE`): one system call
    ///   instead of a page fault per 4 KiB when every byte is about to be read anyway.
    init(path: String, prefault: Bool) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw PerceptError.io(path, "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw PerceptError.io(path, "cannot read its size: \(String(cString: strerror(errno)))")
        }
        let size = Int(info.st_size)
        guard size > 0 else {
            throw PerceptError.unsupported(path, "not a Percept pack file (the file is empty)")
        }
        var flags = MAP_PRIVATE
        #if os(Linux)
        if prefault { flags |= MAP_POPULATE }
        #endif
        guard let base = mmap(nil, size, PROT_READ, flags, descriptor, 0), base != MAP_FAILED else {
            throw PerceptError.io(path, "cannot map into memory: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
