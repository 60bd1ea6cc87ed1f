import PerceptCore

/// Reads packs written before the shared container (format version 1), so old packs keep
/// loading. Layout (integers little-endian):
///
///     offset  size  field
///     0       8     magic "PRCPTPAK"
///     8       4     format version (1)
///     12      4     header size (128)
///     16      8     file length in bytes
///     24      8     N, items
///     32      4×4   H, W, C, number of classes
///     48      8+8   pixels   offset, length   — N×H×W×C bytes, offset a multiple of 4096
///     64      8+8   labels   offset, length   — N × Int32
///     80      8+8   splits   offset, length   — N × UInt8 (`Split.rawValue`)
///     96      8+8   metadata offset, length   — class names then sources, each a UInt32
///                                               byte count + UTF-8 bytes
///     112     16    reserved (zero)
///     end-16  4     CRC-32 (zlib) of every byte before it
///     end-12  4     reserved (zero)
///     end-8   8     end magic "PRCPTEND"
enum LegacyPackFile {
    static let headerSize = 128
    static let trailerSize = 16

    static func load(_ file: FileBytes, path: String, verifyChecksum: Bool) throws -> Dataset {
        var reader = ByteReader(file, path: path, offset: 12)
        let declaredHeaderSize = try reader.int32()
        let fileLength = try reader.int64()
        guard file.count >= fileLength else {
            throw PerceptError.corrupt(path, "truncated: the file is \(file.count) bytes, its header says \(fileLength)")
        }
        guard file.count == fileLength, declaredHeaderSize == headerSize, fileLength >= headerSize + trailerSize else {
            throw PerceptError.corrupt(path, "the file is \(file.count) bytes, its header says \(fileLength) (header size \(declaredHeaderSize))")
        }
        let trailerOffset = fileLength - trailerSize
        guard file.matches(BinaryContainer.endMagic, at: fileLength - 8) else {
            throw PerceptError.corrupt(path, "the end marker \"PRCPTEND\" is missing: the file was cut short or overwritten")
        }
        if verifyChecksum {
            let stored: UInt32 = file.integer(at: trailerOffset)
            guard stored == file.checksum(of: 0..<trailerOffset) else {
                throw PerceptError.corrupt(path, "checksum mismatch: the file is damaged; write it again from the source images")
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
        func section(_ name: String, expectedLength: Int?) throws -> Range<Int> {
            let offset = try reader.int64(), length = try reader.int64()
            guard offset >= headerSize, length <= trailerOffset, offset <= trailerOffset - length,
                  expectedLength.map({ $0 == length }) ?? true else {
                throw PerceptError.corrupt(path, "the \(name) section (offset \(offset), \(length) bytes) does not fit the file")
            }
            return offset..<(offset + length)
        }
        let pixels = try section("pixels", expectedLength: pixelBytes)
        let labelBytes = try section("labels", expectedLength: 4 * count)
        let splitBytes = try section("splits", expectedLength: count)
        let metadata = try section("metadata", expectedLength: nil)

        var labelReader = ByteReader(file, path: path, offset: labelBytes.lowerBound)
        let labels = try labelReader.int32s(count)
        var splits: [Split] = []
        splits.reserveCapacity(count)
        for (index, raw) in file[splitBytes].enumerated() {
            guard let split = Split(rawValue: raw) else {
                throw PerceptError.corrupt(path, "item \(index) has split mark \(raw), which is not a split")
            }
            splits.append(split)
        }
        var strings = ByteReader(file, path: path, offset: metadata.lowerBound)
        let classNames = try (0..<classCount).map { _ in try strings.string() }
        let sources = try (0..<count).map { _ in try strings.string() }
        guard strings.offset <= metadata.upperBound else {
            throw PerceptError.corrupt(path, "the metadata section runs past its length")
        }
        do {
            return try Dataset(height: height, width: width, channels: channels,
                               pixels: PixelStorage(borrowing: pixels, of: file), labels: labels,
                               classNames: classNames, sources: sources, splits: splits)
        } catch let error as PerceptError {
            throw PerceptError.corrupt(path, "inconsistent contents: \(error.reason)")
        }
    }
}
