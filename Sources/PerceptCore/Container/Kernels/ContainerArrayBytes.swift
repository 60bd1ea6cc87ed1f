import Foundation

/// Bytes that live elsewhere (a dataset's pixels, a map) lent to a container write; `owner`
/// keeps them alive until the write is over.
public struct BorrowedBytes {
    let bytes: UnsafeRawBufferPointer
    let type: ContainerElementType
    let owner: AnyObject

    public init(_ bytes: UnsafeRawBufferPointer, type: ContainerElementType, owner: AnyObject) {
        self.bytes = bytes
        self.type = type
        self.owner = owner
    }

    var count: Int { bytes.count }
}

extension ContainerArray {
    /// An array whose bytes are borrowed, not copied (100 MB of pixels stream straight to disk).
    public init(_ name: String, shape: [Int], borrowing bytes: BorrowedBytes) {
        self.init(name: name, shape: shape, values: .borrowed(bytes))
    }

    /// Lends the array's bytes, little-endian, to `body`.
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        // Float32 and Int32 are stored little-endian: the byte order of every platform Percept runs on.
        switch values {
        case .float32(let values): return try values.withUnsafeBytes(body)
        case .int32(let values): return try values.withUnsafeBytes(body)
        case .uint8(let values): return try values.withUnsafeBytes(body)
        case .borrowed(let borrowed): return try withExtendedLifetime(borrowed.owner) { try body(borrowed.bytes) }
        }
    }
}

/// Streams a container's pieces (prefix and header, arrays, padding, trailer) to a sink in
/// chunks of at most 16 MB, without copying the arrays.
enum ContainerEmitter {
    /// One piece of the file, in order.
    enum Piece {
        case bytes([UInt8])
        case zeros(Int)
        case array(ContainerArray)
    }

    /// The CRC-32 of the pieces, as if they were one run of bytes (large arrays on every core).
    static func checksum(_ pieces: [Piece]) -> UInt {
        var crc: UInt = 0
        for piece in pieces {
            switch piece {
            case .bytes(let bytes):
                crc = CRC32.combine(crc, CRC32.checksum(bytes), secondLength: bytes.count)
            case .zeros(let count):
                crc = CRC32.combine(crc, CRC32.checksum([UInt8](repeating: 0, count: count)), secondLength: count)
            case .array(let array):
                crc = CRC32.combine(crc, array.withBytes { CRC32.parallelChecksum($0) }, secondLength: array.byteCount)
            }
        }
        return crc
    }

    /// Hands every piece to `sink` as `Data` borrowing the bytes (no copy).
    static func emit(_ pieces: [Piece], to sink: (Data) throws -> Void) throws {
        func send(_ bytes: UnsafeRawBufferPointer) throws {
            let chunk = 16 << 20
            guard let base = bytes.baseAddress else { return }
            for start in stride(from: 0, to: bytes.count, by: chunk) {
                let length = min(chunk, bytes.count - start)
                try sink(Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base + start), count: length, deallocator: .none))
            }
        }
        for piece in pieces {
            switch piece {
            case .bytes(let bytes): try bytes.withUnsafeBytes { try send($0) }
            case .zeros(let count): try [UInt8](repeating: 0, count: count).withUnsafeBytes { try send($0) }
            case .array(let array): try array.withBytes { try send($0) }
            }
        }
    }
}

/// Appends little-endian integers to a byte array.
public struct ByteWriter {
    public var bytes: [UInt8] = []

    public init() {}

    public mutating func append(_ raw: [UInt8]) { bytes += raw }
    public mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
