#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Immutable bytes that hold a dataset's pixels: either owned memory or a read-only memory
/// map of a pack file (so a 150 MB dataset "loads" without being read).
///
/// Immutable after creation, hence safe to share between threads.
public final class PixelStorage: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer
    private let release: @Sendable (UnsafeRawBufferPointer) -> Void

    /// Takes ownership of `bytes`; `release` is called once when the storage dies.
    public init(bytes: UnsafeRawBufferPointer, release: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {
        self.bytes = bytes
        self.release = release
    }

    /// Allocates `count` bytes and lets `fill` write them (e.g. decoders writing in parallel).
    public convenience init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 64)
        memory.initializeMemory(as: UInt8.self, repeating: 0)
        let used = UnsafeMutableRawBufferPointer(rebasing: memory[0..<count])
        do {
            try fill(used)
        } catch {
            memory.deallocate()
            throw error
        }
        nonisolated(unsafe) let allocation = memory
        self.init(bytes: UnsafeRawBufferPointer(used)) { _ in allocation.deallocate() }
    }

    public convenience init(copying array: [UInt8]) {
        self.init(count: array.count) { destination in
            array.withUnsafeBytes { source in
                if !source.isEmpty { destination.copyMemory(from: source) }
            }
        }
    }

    deinit { release(bytes) }

    public var count: Int { bytes.count }
}
