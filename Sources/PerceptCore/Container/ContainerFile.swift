import Foundation

/// A checked container (see `BinaryContainer`): its kind's description and its arrays, read
/// from the bytes in place. Every array in the table has been checked to lie inside the file,
/// on a 64-byte boundary, without overlapping another, with the byte count its shape implies.
public final class ContainerFile: Sendable {
    public let path: String
    public let kind: ContainerKind
    public let bytes: FileBytes
    /// The array table, in file order.
    public let arrays: [ContainerArrayEntry]
    private let header: Data
    private let arraysStart: Int

    private struct Table: Decodable {
        var arrays: [ContainerArrayEntry]
    }

    private struct Content<T: Decodable>: Decodable {
        var content: T
    }

    init(_ bytes: FileBytes, path: String, kind: ContainerKind, verifyChecksum: Bool) throws {
        let prefixSize = BinaryContainer.prefixSize, trailerSize = BinaryContainer.trailerSize
        func corrupt(_ reason: String) -> PerceptError { .corrupt(path, reason) }
        guard bytes.count >= prefixSize + trailerSize else {
            throw corrupt("truncated: \(bytes.count) bytes is shorter than any \(kind.noun)")
        }
        let fileLength = Int(clamping: bytes.integer(at: 16) as UInt64)
        guard bytes.count >= fileLength else {
            throw corrupt("truncated: the file is \(bytes.count) bytes, its header says \(fileLength)")
        }
        guard bytes.count == fileLength else {
            throw corrupt("the file is \(bytes.count) bytes, its header says \(fileLength): something was appended or overwritten")
        }
        guard bytes.matches(BinaryContainer.endMagic, at: fileLength - 8) else {
            throw corrupt("the end marker \"PRCPTEND\" is missing: the file was cut short or overwritten")
        }
        let trailerOffset = fileLength - trailerSize
        if verifyChecksum {
            let stored: UInt32 = bytes.integer(at: trailerOffset)
            let computed = bytes.checksum(of: 0..<trailerOffset)
            guard stored == computed else {
                throw corrupt("checksum mismatch (stored \(Self.hex(stored)), computed \(Self.hex(computed))): "
                              + "the \(kind.noun) is damaged; write it again")
            }
        }
        let headerLength = Int(clamping: bytes.integer(at: 24) as UInt64)
        guard headerLength <= trailerOffset - prefixSize else {
            throw corrupt("the header (\(headerLength) bytes) does not fit the file")
        }
        arraysStart = prefixSize + headerLength
        guard arraysStart % BinaryContainer.alignment == 0 else {
            throw corrupt("the header (\(headerLength) bytes) leaves the arrays misaligned")
        }
        let headerBytes = Data(bytes[prefixSize..<arraysStart])
        do {
            arrays = try JSONDecoder().decode(Table.self, from: headerBytes).arrays
        } catch {
            throw corrupt("the header is not a \(kind.noun) description: \(error)")
        }
        try Self.check(arrays, fitIn: trailerOffset - arraysStart, path: path)
        self.path = path
        self.kind = kind
        self.bytes = bytes
        self.header = headerBytes
    }

    /// Each array inside the space between header and trailer, aligned, sized by its shape,
    /// and none overlapping another or sharing its name.
    private static func check(_ arrays: [ContainerArrayEntry], fitIn space: Int, path: String) throws {
        var names = Set<String>()
        for entry in arrays {
            func corrupt(_ reason: String) -> PerceptError {
                .corrupt(path, "the array '\(entry.name)' (\(entry.shape), \(entry.byteCount) bytes at offset \(entry.offset)) \(reason)")
            }
            guard names.insert(entry.name).inserted else { throw corrupt("appears twice in the table") }
            guard let count = entry.elementCount, count.multipliedReportingOverflow(by: entry.type.size) == (entry.byteCount, false)
            else { throw corrupt("does not hold as many \(entry.type) values as its shape says") }
            guard entry.offset >= 0, entry.offset <= space, entry.byteCount <= space - entry.offset else {
                throw corrupt("does not fit the file")
            }
            guard entry.offset % BinaryContainer.alignment == 0 else {
                throw corrupt("is not on a \(BinaryContainer.alignment)-byte boundary")
            }
        }
        let byOffset = arrays.sorted { ($0.offset, $0.byteCount) < ($1.offset, $1.byteCount) }
        for (first, second) in zip(byOffset, byOffset.dropFirst()) where first.offset + first.byteCount > second.offset {
            throw PerceptError.corrupt(path, "the arrays '\(first.name)' and '\(second.name)' overlap")
        }
    }

    /// The kind's description, decoded as `type`.
    public func content<T: Decodable>(as type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(Content<T>.self, from: header).content
        } catch {
            throw PerceptError.corrupt(path, "the header does not describe a \(kind.noun) this Percept reads: \(error)")
        }
    }

    /// The table entry `name`, checked to hold `type` (and `shape`, when given).
    public func entry(_ name: String, type: ContainerElementType, shape: [Int]? = nil) throws -> ContainerArrayEntry {
        guard let entry = arrays.first(where: { $0.name == name }) else {
            throw PerceptError.corrupt(path, "the \(kind.noun) has no '\(name)' array")
        }
        guard entry.type == type, shape.map({ $0 == entry.shape }) ?? true else {
            throw PerceptError.corrupt(path, "the array '\(name)' is \(entry.type) \(entry.shape), expected \(type) \(shape.map { "\($0)" } ?? "")")
        }
        return entry
    }

    /// Where `entry`'s bytes lie in the file.
    public func range(of entry: ContainerArrayEntry) -> Range<Int> {
        (arraysStart + entry.offset)..<(arraysStart + entry.offset + entry.byteCount)
    }

    /// A copy of a Float32 array.
    public func floats(_ entry: ContainerArrayEntry) -> [Float] {
        bytes.floats(at: arraysStart + entry.offset, count: entry.byteCount / 4)
    }

    /// A copy of an Int32 array.
    public func int32s(_ entry: ContainerArrayEntry) -> [Int32] {
        bytes.int32s(at: arraysStart + entry.offset, count: entry.byteCount / 4)
    }

    /// A copy of a byte array.
    public func uint8s(_ entry: ContainerArrayEntry) -> [UInt8] { bytes[range(of: entry)] }

    private static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }
}
