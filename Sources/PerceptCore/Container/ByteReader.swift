/// Reads little-endian integers, length-prefixed strings and arrays from a file's bytes in
/// order, failing as `.corrupt` (never trapping) when the bytes run out: every length it is
/// given comes from the file. The legacy (version 1) readers are written with it.
public struct ByteReader {
    public let file: FileBytes
    public let path: String
    public var offset: Int

    public init(_ file: FileBytes, path: String, offset: Int = 0) {
        self.file = file
        self.path = path
        self.offset = offset
    }

    /// Moves past `count` bytes, returning where they start.
    public mutating func take(_ count: Int) throws -> Int {
        guard count >= 0, count <= file.count - offset else {
            throw PerceptError.corrupt(path, "truncated: needed \(count) more bytes at offset \(offset) of \(file.count)")
        }
        defer { offset += count }
        return offset
    }

    public mutating func uint32() throws -> UInt32 { file.integer(at: try take(4)) }

    public mutating func int32() throws -> Int { Int(try uint32()) }

    public mutating func int64() throws -> Int {
        let value: UInt64 = file.integer(at: try take(8))
        guard value <= UInt64(Int.max) else {
            throw PerceptError.corrupt(path, "value \(value) at offset \(offset - 8) is out of range")
        }
        return Int(value)
    }

    /// A UInt32 byte count, then that many bytes of UTF-8.
    public mutating func string() throws -> String {
        let length = try int32()
        let start = try take(length)
        guard let text = file.string(in: start..<(start + length)) else {
            throw PerceptError.corrupt(path, "the text at offset \(start) is not UTF-8")
        }
        return text
    }

    public mutating func bytes(_ count: Int) throws -> [UInt8] {
        let start = try take(count)
        return file[start..<(start + count)]
    }

    public mutating func floats(_ count: Int) throws -> [Float] {
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: 4)
        guard !overflow else { throw PerceptError.corrupt(path, "an array of \(count) numbers is impossibly large") }
        return file.floats(at: try take(byteCount), count: count)
    }

    public mutating func int32s(_ count: Int) throws -> [Int32] {
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: 4)
        guard !overflow else { throw PerceptError.corrupt(path, "an array of \(count) numbers is impossibly large") }
        return file.int32s(at: try take(byteCount), count: count)
    }
}
