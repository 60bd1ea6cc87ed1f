#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PerceptCore

/// A file's bytes lent to a decoder without a copy: archive entries in place, disk files read
/// with POSIX calls into a buffer each decoding thread reuses.
extension FileTree {
    /// The bytes of `file`, through `body`, without copying archive entries. `scratch` is a
    /// reusable buffer for disk reads so a decoding thread allocates once, not once per file.
    /// The pointer must not escape `body`.
    public func withBytes<R>(of file: File, scratch: inout [UInt8],
                             _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        switch file.location {
        case .entry(let index):
            return try entries[index].data.withUnsafeBytes(body)
        case .disk(let path):
            let count = try FileTree.readFile(path, into: &scratch)
            return try scratch.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
    }

    /// Reads a whole file with POSIX calls into `buffer` (grown as needed); returns its length.
    /// Plain `read` into a reused buffer is several times cheaper than `Data(contentsOf:)` for
    /// the tens of thousands of 1 KB files a dataset folder holds.
    static func readFile(_ path: String, into buffer: inout [UInt8]) throws -> Int {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw PerceptError.io(path, "open failed: \(DirectoryListing.systemReason())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw PerceptError.io(path, "stat failed: \(DirectoryListing.systemReason())") }
        let size = Int(info.st_size)
        if buffer.count < size + 1 { buffer = [UInt8](repeating: 0, count: max(size + 1, 64 * 1024)) }
        var total = 0
        while true {
            let got = buffer.withUnsafeMutableBytes { raw in
                read(fd, raw.baseAddress! + total, raw.count - total)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw PerceptError.io(path, "read failed: \(DirectoryListing.systemReason())")
            }
            if got == 0 { break }
            total += got
            if total == buffer.count { buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count)) }
        }
        return total
    }
}
