import CZlib
import Foundation
import PerceptCore

/// Percept's model file (`.percept`): one format for every model family.
///
/// Layout (integers little-endian):
///
///     offset  size  field
///     0       8     magic "PRCPTMDL"
///     8       4     format version (1)
///     12      4     reserved (zero)
///     16      8     file length in bytes (catches truncation first)
///     24      8     header length H
///     32      H     header: UTF-8 JSON — kind, kind version, class names, input shape, resize
///                   mode, settings (the family's JSON), metadata, and a table of the arrays
///                   (name, element type, shape, offset, byte count)
///     …             arrays, each starting on a 64-byte boundary (Float32 or bytes)
///     end-16  4     CRC-32 (zlib) of every byte before it
///     end-12  4     reserved (zero)
///     end-8   8     end magic "PRCPTEND"
///
/// The header is JSON so a person (or `percept report`) can read what a model is with any
/// tool; the arrays are raw so a 150 MB k-NN model loads at disk speed.
public enum ModelFile {
    public static let magic = Array("PRCPTMDL".utf8)
    public static let endMagic = Array("PRCPTEND".utf8)
    /// The format version this Percept writes and the newest it reads.
    public static let formatVersion: UInt32 = 1
    static let prefixSize = 32
    static let trailerSize = 16
    static let alignment = 64

    struct Header: Codable {
        var kind: String
        var kindVersion: Int
        var classNames: [String]
        var inputShape: [Int]
        var resizeMode: String?
        var settings: JSONValue
        var metadata: [String: String]
        var arrays: [ArrayEntry]
    }

    struct ArrayEntry: Codable {
        enum ElementType: String, Codable { case float32, uint8 }
        var name: String
        var type: ElementType
        var shape: [Int]
        var offset: Int
        var byteCount: Int
    }

    // MARK: - Writing

    /// The archive as file bytes.
    public static func encode(_ archive: ModelArchive) throws -> Data {
        let settings: JSONValue
        do {
            settings = try JSONDecoder().decode(JSONValue.self, from: archive.settings)
        } catch {
            throw PerceptError.invalidData("the \(archive.kind) model's settings are not JSON: \(error)")
        }
        // Arrays in name order, so the same model always gives the same bytes.
        var entries: [ArrayEntry] = []
        var offset = 0
        func place(_ name: String, _ type: ArrayEntry.ElementType, _ shape: [Int], _ byteCount: Int) {
            entries.append(ArrayEntry(name: name, type: type, shape: shape, offset: offset, byteCount: byteCount))
            offset = (offset + byteCount + alignment - 1) / alignment * alignment
        }
        for name in archive.tensors.keys.sorted() {
            let tensor = archive.tensors[name]!  // the key comes from the dictionary itself
            place(name, .float32, tensor.shape, tensor.count * 4)
        }
        for name in archive.blobs.keys.sorted() {
            let blob = archive.blobs[name]!
            place(name, .uint8, [blob.count], blob.count)
        }
        let header = Header(kind: archive.kind, kindVersion: archive.kindVersion, classNames: archive.classNames,
                            inputShape: archive.inputShape, resizeMode: archive.resizeMode, settings: settings,
                            metadata: archive.metadata, arrays: entries)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var headerBytes = try encoder.encode(header)
        // Pad the header with spaces (still valid JSON) so the arrays start aligned.
        let unpadded = prefixSize + headerBytes.count
        headerBytes.append(contentsOf: [UInt8](repeating: 0x20, count: (alignment - unpadded % alignment) % alignment))
        let arraysStart = prefixSize + headerBytes.count
        let fileLength = arraysStart + offset + trailerSize

        var file = Data(capacity: fileLength)
        file.append(contentsOf: magic)
        appendInteger(formatVersion, to: &file)
        appendInteger(UInt32(0), to: &file)
        appendInteger(UInt64(fileLength), to: &file)
        appendInteger(UInt64(headerBytes.count), to: &file)
        file.append(headerBytes)
        for entry in entries {
            file.append(contentsOf: [UInt8](repeating: 0, count: arraysStart + entry.offset - file.count))
            switch entry.type {
            case .float32:
                archive.tensors[entry.name]!.scalars.withUnsafeBytes { bytes in
                    // Float32 is stored little-endian: the byte order of every platform Percept runs on.
                    file.append(contentsOf: bytes)
                }
            case .uint8:
                file.append(contentsOf: archive.blobs[entry.name]!)
            }
        }
        file.append(contentsOf: [UInt8](repeating: 0, count: fileLength - trailerSize - file.count))
        let crc = file.withUnsafeBytes { checksum($0) }
        appendInteger(crc, to: &file)
        appendInteger(UInt32(0), to: &file)
        file.append(contentsOf: endMagic)
        return file
    }

    /// Writes `archive` to `path` atomically: a crash never leaves half a model.
    public static func write(_ archive: ModelArchive, to path: String) throws {
        try AtomicFile.write(try encode(archive), to: path)
    }

    /// Saves a fitted model, with optional facts for the report (`metadata`) and how images are resized.
    public static func write(_ model: some ArchivableModel, to path: String,
                             resizeMode: String? = nil, metadata: [String: String] = [:]) throws {
        var archive = try model.archive()
        if let resizeMode { archive.resizeMode = resizeMode }
        archive.metadata.merge(metadata) { _, new in new }
        try write(archive, to: path)
    }

    // MARK: - Reading

    /// Reads a model file written by `write`.
    ///
    /// - Throws: `.io` if it cannot be read; `.unsupported` if it is not a model file or is from
    ///   a newer Percept; `.corrupt` if it is truncated, damaged (checksum) or inconsistent.
    public static func read(_ path: String) throws -> ModelArchive {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw PerceptError.io(path, "cannot read the model file: \((error as NSError).localizedDescription)")
        }
        return try decode(data, path: path)
    }

    /// Decodes model-file bytes; `path` names the file in errors.
    public static func decode(_ data: Data, path: String) throws -> ModelArchive {
        let bytes = [UInt8](data)
        guard bytes.count >= magic.count, bytes.starts(with: magic) else {
            if bytes.starts(with: Array("PRCPTPAK".utf8)) {
                throw PerceptError.unsupported(path, "this is a dataset pack, not a model; train one with `percept train`")
            }
            throw PerceptError.unsupported(path, "not a Percept model file (it does not start with \"PRCPTMDL\")")
        }
        guard bytes.count >= prefixSize + trailerSize else {
            throw PerceptError.corrupt(path, "truncated: \(bytes.count) bytes is shorter than any model file")
        }
        let version: UInt32 = readInteger(bytes, at: 8)
        guard version <= formatVersion else {
            throw PerceptError.unsupported(path,
                "model format version \(version) is newer than this Percept (reads \(formatVersion)); upgrade Percept")
        }
        guard version >= 1 else { throw PerceptError.corrupt(path, "model format version 0 does not exist") }
        let fileLength = Int(clamping: readInteger(bytes, at: 16) as UInt64)
        guard bytes.count >= fileLength else {
            throw PerceptError.corrupt(path, "truncated: the file is \(bytes.count) bytes, its header says \(fileLength)")
        }
        guard bytes.count == fileLength else {
            throw PerceptError.corrupt(path, "the file is \(bytes.count) bytes, its header says \(fileLength)")
        }
        guard bytes[(fileLength - endMagic.count)...].elementsEqual(endMagic) else {
            throw PerceptError.corrupt(path, "the end marker \"PRCPTEND\" is missing: the file was cut short or overwritten")
        }
        let trailerOffset = fileLength - trailerSize
        let stored: UInt32 = readInteger(bytes, at: trailerOffset)
        let computed = bytes.withUnsafeBytes { checksum(UnsafeRawBufferPointer(rebasing: $0[0..<trailerOffset])) }
        guard stored == computed else {
            throw PerceptError.corrupt(path, "checksum mismatch: the file is damaged; save the model again")
        }
        let headerLength = Int(clamping: readInteger(bytes, at: 24) as UInt64)
        guard headerLength <= trailerOffset - prefixSize else {
            throw PerceptError.corrupt(path, "the header (\(headerLength) bytes) does not fit the file")
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[prefixSize..<(prefixSize + headerLength)]))
        } catch {
            throw PerceptError.corrupt(path, "the header is not a model description: \(error)")
        }
        let arraysStart = prefixSize + headerLength
        var tensors: [String: Tensor] = [:]
        var blobs: [String: [UInt8]] = [:]
        for entry in header.arrays {
            let start = arraysStart + entry.offset
            let elements = entry.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
            let width = entry.type == .float32 ? 4 : 1
            guard entry.offset >= 0, entry.byteCount >= 0, entry.shape.allSatisfy({ $0 >= 0 }),
                  start <= trailerOffset, entry.byteCount <= trailerOffset - start,
                  elements * width == entry.byteCount else {
                throw PerceptError.corrupt(path, "the array '\(entry.name)' (\(entry.shape), \(entry.byteCount) bytes) does not fit the file")
            }
            switch entry.type {
            case .float32:
                let scalars = [Float](unsafeUninitializedCapacity: elements) { buffer, initialized in
                    bytes.withUnsafeBytes { raw in
                        for i in 0..<elements {
                            buffer[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self)))
                        }
                    }
                    initialized = elements
                }
                tensors[entry.name] = Tensor(shape: entry.shape, scalars: scalars)
            case .uint8:
                blobs[entry.name] = Array(bytes[start..<(start + entry.byteCount)])
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return ModelArchive(kind: header.kind, kindVersion: header.kindVersion, classNames: header.classNames,
                            inputShape: header.inputShape, resizeMode: header.resizeMode,
                            settings: try encoder.encode(header.settings),
                            tensors: tensors, blobs: blobs, metadata: header.metadata)
    }

    // MARK: - Bytes

    private static func appendInteger<T: FixedWidthInteger>(_ value: T, to data: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    private static func readInteger<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int) -> T {
        bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }

    private static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return 0 }
        var crc = crc32(0, nil, 0)
        var offset = 0
        while offset < bytes.count {  // zlib takes 32-bit lengths
            let length = min(bytes.count - offset, 1 << 30)
            crc = crc32(crc, base + offset, uInt(length))
            offset += length
        }
        return UInt32(truncatingIfNeeded: crc)
    }
}

/// Any JSON value: lets a family's settings sit inside the header as JSON, not as an escaped string.
indirect enum JSONValue: Codable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            // Integers stay integers in the file, so an Int setting decodes as Int again.
            if value.rounded() == value, abs(value) < 1e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
