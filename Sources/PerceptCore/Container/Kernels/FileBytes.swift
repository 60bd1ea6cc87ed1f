#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A whole file's bytes, read-only: a private memory map of the file (so nobody else's later
/// writes show through), or a copy of bytes already in memory. Unmapped or freed when the last
/// reference goes; immutable, hence safe to share between threads.
public final class FileBytes: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    private let isMapped: Bool

    /// Maps `path`.
    /// - Parameter prefault: map the pages in up front (Linux `MAP_POPULATE`): one system call
    ///   instead of a page fault per 4 KiB when every byte is about to be read anyway.
    public init(mapping path: String, prefault: Bool, noun: String) throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw PerceptError.io(path, "cannot open the \(noun): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw PerceptError.io(path, "cannot read its size: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw PerceptError.io(path, "not a regular file, so not a \(noun)")
        }
        let size = Int(info.st_size)
        guard size > 0 else { throw PerceptError.unsupported(path, "not a Percept \(noun) (the file is empty)") }
        var flags = MAP_PRIVATE
        #if os(Linux)
        if prefault { flags |= MAP_POPULATE }
        #endif
        guard let base = mmap(nil, size, PROT_READ, flags, descriptor, 0), base != MAP_FAILED else {
            throw PerceptError.io(path, "cannot map into memory: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: base, count: size)
        isMapped = true
    }

    /// Copies `data` (64-byte aligned, like a map's arrays).
    public init(copying data: Data) {
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
        data.withUnsafeBytes { source in
            if !source.isEmpty { memory.copyMemory(from: source) }
        }
        bytes = UnsafeRawBufferPointer(rebasing: memory[0..<data.count])
        isMapped = false
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    public var count: Int { bytes.count }

    /// The bytes in `range` (clamped checks are the caller's: ranges come from validated tables).
    public subscript(range: Range<Int>) -> [UInt8] { Array(bytes[range]) }

    /// The UTF-8 text in `range`, or nil when it is not UTF-8 (read in place, no copy).
    public func string(in range: Range<Int>) -> String? {
        String(validating: bytes[range], as: UTF8.self)
    }

    /// Whether the bytes at `offset` are `expected`.
    public func matches(_ expected: [UInt8], at offset: Int) -> Bool {
        offset >= 0 && offset <= count - expected.count && bytes[offset..<(offset + expected.count)].elementsEqual(expected)
    }

    /// The little-endian integer at `offset`, which the caller has checked lies inside.
    public func integer<T: FixedWidthInteger>(at offset: Int, as type: T.Type = T.self) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// zlib's CRC-32 of `range`, computed on every core.
    public func checksum(of range: Range<Int>) -> UInt32 {
        UInt32(truncatingIfNeeded: CRC32.parallelChecksum(UnsafeRawBufferPointer(rebasing: bytes[range])))
    }

    /// `count` little-endian Float32s from `offset`.
    public func floats(at offset: Int, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 {
                let destination = UnsafeMutableRawBufferPointer(buffer)
                // Float32 is stored little-endian: the byte order of every platform Percept runs on.
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 4 * count)]))
            }
            initialized = count
        }
    }

    /// `count` little-endian Int32s from `offset`.
    public func int32s(at offset: Int, count: Int) -> [Int32] {
        [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                buffer[i] = Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4 * i, as: Int32.self))
            }
            initialized = count
        }
    }

    /// Hands out the bytes of `range` without copying; they live as long as this object.
    public func withBorrowedBytes<R>(_ range: Range<Int>, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: bytes[range]))
    }
}
