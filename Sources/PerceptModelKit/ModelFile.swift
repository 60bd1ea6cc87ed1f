import Foundation
import PerceptCore

/// Percept's model file (`.percept`): one format for every model family.
///
/// A `BinaryContainer` of kind `.model` (magic "PRCPTMDL"). The header's content is the kind,
/// kind version, class names, input shape, resize mode, settings (the family's JSON) and
/// metadata; the arrays are the archive's Float32 tensors, then its byte blobs, each in name
/// order. Files written before the shared container (format version 1) are read by
/// `decodeLegacy`.
///
/// The header is JSON so a person (or `percept report`) can read what a model is with any
/// tool; the arrays are raw so a 150 MB k-NN model loads at disk speed.
public enum ModelFile {
    public static let magic = Array(ContainerKind.model.magic.utf8)
    /// The format version this Percept writes and the newest it reads.
    public static let formatVersion = BinaryContainer.formatVersion

    /// What the header says besides the array table.
    struct Description: Codable {
        var kind: String
        var kindVersion: Int
        var classNames: [String]
        var inputShape: [Int]
        var resizeMode: String?
        var settings: JSONValue
        var metadata: [String: String]
    }

    // MARK: - Writing

    /// The header's content and the arrays, tensors then blobs, each in name order (so the
    /// same model always gives the same bytes).
    private static func contents(of archive: ModelArchive) throws -> (Description, [ContainerArray]) {
        let settings: JSONValue
        do {
            settings = try JSONDecoder().decode(JSONValue.self, from: archive.settings)
        } catch {
            throw PerceptError.invalidData("the \(archive.kind) model's settings are not JSON: \(error)")
        }
        let description = Description(kind: archive.kind, kindVersion: archive.kindVersion, classNames: archive.classNames,
                                      inputShape: archive.inputShape, resizeMode: archive.resizeMode, settings: settings,
                                      metadata: archive.metadata)
        let tensors = archive.tensors.sorted { $0.key < $1.key }.map { name, tensor in
            ContainerArray(name, shape: tensor.shape, floats: tensor.scalars)
        }
        let blobs = archive.blobs.sorted { $0.key < $1.key }.map { name, blob in ContainerArray(name, bytes: blob) }
        return (description, tensors + blobs)
    }

    /// The archive as file bytes.
    public static func encode(_ archive: ModelArchive) throws -> Data {
        let (description, arrays) = try contents(of: archive)
        return try BinaryContainer.encode(.model, content: description, arrays: arrays)
    }

    /// Writes `archive` to `path` atomically: a crash never leaves half a model.
    public static func write(_ archive: ModelArchive, to path: String) throws {
        let (description, arrays) = try contents(of: archive)
        try BinaryContainer.write(.model, content: description, arrays: arrays, to: path)
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
        try decode(BinaryContainer.open(path, as: .model), path: path)
    }

    /// Decodes model-file bytes; `path` names the file in errors.
    public static func decode(_ data: Data, path: String) throws -> ModelArchive {
        try decode(BinaryContainer.open(FileBytes(copying: data), path: path, as: .model), path: path)
    }

    private static func decode(_ opened: BinaryContainer.Opened, path: String) throws -> ModelArchive {
        let file: ContainerFile
        switch opened {
        case .legacy(_, let bytes): return try decodeLegacy(bytes, path: path)
        case .current(let current): file = current
        }
        let description = try file.content(as: Description.self)
        var tensors: [String: Tensor] = [:]
        var blobs: [String: [UInt8]] = [:]
        for entry in file.arrays {
            switch entry.type {
            case .float32: tensors[entry.name] = Tensor(shape: entry.shape, scalars: file.floats(entry))
            case .uint8: blobs[entry.name] = file.uint8s(entry)
            case .int32: throw PerceptError.corrupt(path, "the array '\(entry.name)' holds Int32s, which no model stores")
            }
        }
        return try archive(description, tensors: tensors, blobs: blobs)
    }

    private static func archive(_ description: Description, tensors: [String: Tensor],
                                blobs: [String: [UInt8]]) throws -> ModelArchive {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return ModelArchive(kind: description.kind, kindVersion: description.kindVersion, classNames: description.classNames,
                            inputShape: description.inputShape, resizeMode: description.resizeMode,
                            settings: try encoder.encode(description.settings),
                            tensors: tensors, blobs: blobs, metadata: description.metadata)
    }
}

// MARK: - Format version 1

extension ModelFile {
    /// Reads model files written before the shared container (format version 1):
    ///
    ///     offset  size  field                     (integers little-endian)
    ///     0       8     magic "PRCPTMDL"
    ///     8       4     format version (1)
    ///     12      4     reserved (zero)
    ///     16      8     file length in bytes
    ///     24      8     header length H
    ///     32      H     header: UTF-8 JSON, the description plus the array table
    ///     …             arrays (offsets from 32 + H), Float32 or bytes
    ///     end-16  4     CRC-32 (zlib) of every byte before it
    ///     end-12  4     reserved (zero)
    ///     end-8   8     end magic "PRCPTEND"
    static func decodeLegacy(_ bytes: FileBytes, path: String) throws -> ModelArchive {
        struct ArrayEntry: Codable {
            enum ElementType: String, Codable { case float32, uint8 }
            var name: String
            var type: ElementType
            var shape: [Int]
            var offset: Int
            var byteCount: Int
        }
        // The version 1 header is the description with the array table beside it.
        struct Table: Codable {
            var arrays: [ArrayEntry]
        }
        let prefixSize = 32, trailerSize = 16
        guard bytes.count >= prefixSize + trailerSize else {
            throw PerceptError.corrupt(path, "truncated: \(bytes.count) bytes is shorter than any model file")
        }
        let fileLength = Int(clamping: bytes.integer(at: 16) as UInt64)
        guard bytes.count >= fileLength else {
            throw PerceptError.corrupt(path, "truncated: the file is \(bytes.count) bytes, its header says \(fileLength)")
        }
        guard bytes.count == fileLength else {
            throw PerceptError.corrupt(path, "the file is \(bytes.count) bytes, its header says \(fileLength)")
        }
        guard bytes.matches(BinaryContainer.endMagic, at: fileLength - 8) else {
            throw PerceptError.corrupt(path, "the end marker \"PRCPTEND\" is missing: the file was cut short or overwritten")
        }
        let trailerOffset = fileLength - trailerSize
        guard bytes.integer(at: trailerOffset) as UInt32 == bytes.checksum(of: 0..<trailerOffset) else {
            throw PerceptError.corrupt(path, "checksum mismatch: the file is damaged; save the model again")
        }
        let headerLength = Int(clamping: bytes.integer(at: 24) as UInt64)
        guard headerLength <= trailerOffset - prefixSize else {
            throw PerceptError.corrupt(path, "the header (\(headerLength) bytes) does not fit the file")
        }
        let description: Description, table: Table
        do {
            let header = Data(bytes[prefixSize..<(prefixSize + headerLength)])
            description = try JSONDecoder().decode(Description.self, from: header)
            table = try JSONDecoder().decode(Table.self, from: header)
        } catch {
            throw PerceptError.corrupt(path, "the header is not a model description: \(error)")
        }
        let arraysStart = prefixSize + headerLength
        var tensors: [String: Tensor] = [:]
        var blobs: [String: [UInt8]] = [:]
        for entry in table.arrays {
            let start = arraysStart + entry.offset
            let elements = entry.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
            let width = entry.type == .float32 ? 4 : 1
            guard entry.offset >= 0, entry.byteCount >= 0, entry.shape.allSatisfy({ $0 >= 0 }),
                  start <= trailerOffset, entry.byteCount <= trailerOffset - start,
                  elements * width == entry.byteCount else {
                throw PerceptError.corrupt(path, "the array '\(entry.name)' (\(entry.shape), \(entry.byteCount) bytes) does not fit the file")
            }
            switch entry.type {
            case .float32: tensors[entry.name] = Tensor(shape: entry.shape, scalars: bytes.floats(at: start, count: elements))
            case .uint8: blobs[entry.name] = bytes[start..<(start + entry.byteCount)]
            }
        }
        return try archive(description, tensors: tensors, blobs: blobs)
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
