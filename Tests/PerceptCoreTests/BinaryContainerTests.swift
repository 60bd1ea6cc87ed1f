import Foundation
import PerceptCore
import XCTest

/// The shared framing of packs, model files and checkpoints: round trip, alignment, and a clear
/// error for every kind of damage.
final class BinaryContainerTests: XCTestCase {
    struct Content: Codable, Equatable {
        var title: String
        var sizes: [Int]
    }

    private let content = Content(title: "ünïcode ✓", sizes: [3, 1, 4])
    private let arrays = [
        ContainerArray("weights", shape: [2, 3], floats: [1, -2.5, .pi, 0, -0, 1e-30]),
        ContainerArray("labels", shape: [3], int32s: [3, -1, Int32.max]),
        ContainerArray("pixels", bytes: [0, 255, 7, 9, 1]),
        ContainerArray("empty", shape: [0, 4], floats: []),
    ]

    private func encoded() throws -> [UInt8] { [UInt8](try BinaryContainer.encode(.model, content: content, arrays: arrays)) }

    private func open(_ bytes: [UInt8], as kind: ContainerKind = .model, verify: Bool = true) throws -> ContainerFile {
        switch try BinaryContainer.open(FileBytes(copying: Data(bytes)), path: "f.bin", as: kind, verifyChecksum: verify) {
        case .current(let file): return file
        case .legacy(let version, _): throw PerceptError.unsupported("f.bin", "legacy version \(version)")
        }
    }

    private func assertFails(_ bytes: [UInt8], as kind: ContainerKind = .model, verify: Bool = true,
                             _ expected: PerceptError.Kind, containing text: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try open(bytes, as: kind, verify: verify), file: file, line: line) { error in
            guard let error = error as? PerceptError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.kind, expected, "\(error)", file: file, line: line)
            XCTAssertEqual(error.path, "f.bin", file: file, line: line)
            XCTAssertTrue(error.reason.contains(text), error.reason, file: file, line: line)
        }
    }

    func testRoundTripKeepsContentAndArrays() throws {
        let file = try open(try encoded())
        XCTAssertEqual(try file.content(as: Content.self), content)
        XCTAssertEqual(file.arrays.map(\.name), ["weights", "labels", "pixels", "empty"])
        XCTAssertEqual(file.floats(try file.entry("weights", type: .float32, shape: [2, 3])), [1, -2.5, .pi, 0, -0, 1e-30])
        XCTAssertEqual(file.int32s(try file.entry("labels", type: .int32)), [3, -1, Int32.max])
        XCTAssertEqual(file.uint8s(try file.entry("pixels", type: .uint8)), [0, 255, 7, 9, 1])
        XCTAssertEqual(file.floats(try file.entry("empty", type: .float32, shape: [0, 4])), [])
        // Asking for an array that is not there, or of another type, names it.
        XCTAssertThrowsError(try file.entry("bias", type: .float32)) { XCTAssertTrue("\($0)".contains("'bias'")) }
        XCTAssertThrowsError(try file.entry("pixels", type: .float32)) { XCTAssertTrue("\($0)".contains("'pixels'")) }
        // The same inputs always give the same bytes.
        XCTAssertEqual(try encoded(), try encoded())
    }

    func testLayoutMagicVersionLengthAlignmentAndEndMagic() throws {
        let bytes = try encoded()
        XCTAssertEqual(Array(bytes[0..<8]), Array("PRCPTMDL".utf8))
        XCTAssertEqual(Array(bytes[8..<12]), [2, 0, 0, 0])
        XCTAssertEqual(Int(littleEndian64: bytes, at: 16), bytes.count)
        XCTAssertEqual(Array(bytes.suffix(8)), Array("PRCPTEND".utf8))
        let file = try open(bytes)
        for entry in file.arrays {
            XCTAssertEqual(file.range(of: entry).lowerBound % 64, 0, entry.name)
        }
        // The stored checksum is zlib's CRC-32 of every byte before the trailer.
        let stored = UInt32(Int(littleEndian64: bytes, at: bytes.count - 16) & 0xFFFF_FFFF)
        XCTAssertEqual(UInt(stored), CRC32.checksum(Array(bytes.dropLast(16))))
    }

    func testFileOnDiskRoundTripsAndIsWrittenAtomically() throws {
        let directory = NSTemporaryDirectory() + "percept-container-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/a.ckpt"
        try BinaryContainer.write(.checkpoint, content: content, arrays: arrays, to: path)
        guard case .current(let file) = try BinaryContainer.open(path, as: .checkpoint) else { return XCTFail("legacy?") }
        XCTAssertEqual(try file.content(as: Content.self), content)
        XCTAssertEqual(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))),
                       [UInt8](try BinaryContainer.encode(.checkpoint, content: content, arrays: arrays)))
        struct DiskFull: Error {}
        XCTAssertThrowsError(try BinaryContainer.write(.checkpoint, content: Content(title: "other", sizes: []), arrays: [],
                                                       to: path, beforeEachWrite: { _ in throw DiskFull() }))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["a.ckpt"])
        XCTAssertThrowsError(try BinaryContainer.open(directory + "/missing.ckpt", as: .checkpoint)) {
            XCTAssertEqual(($0 as? PerceptError)?.kind, .io)
            XCTAssertEqual(($0 as? PerceptError)?.path, directory + "/missing.ckpt")
        }
    }

    func testEveryTruncationIsAClearError() throws {
        let bytes = try encoded()
        for length in [0, 3, 8, 11, 12, 20, 31, 40, bytes.count / 2, bytes.count - 17, bytes.count - 1] {
            XCTAssertThrowsError(try open(Array(bytes.prefix(length))), "length \(length)") { error in
                let error = error as? PerceptError
                XCTAssertEqual(error?.path, "f.bin")
                XCTAssertTrue(error?.kind == .corrupt || (length == 0 && error?.kind == .unsupported), "\(String(describing: error))")
            }
        }
        assertFails(Array(bytes.dropLast(100)), .corrupt,
                    containing: "truncated: the file is \(bytes.count - 100) bytes, its header says \(bytes.count)")
        assertFails(bytes + [0], .corrupt, containing: "its header says \(bytes.count)")
    }

    func testEveryFlippedBitFailsTheChecksum() throws {
        let bytes = try encoded()
        // Past the magic and version (which fail on their own): every byte up to the trailer.
        for offset in stride(from: 12, to: bytes.count - 16, by: 7) where !(16..<32).contains(offset) {
            var damaged = bytes
            damaged[offset] ^= 0x08
            assertFails(damaged, .corrupt, containing: "checksum mismatch")
        }
        var damaged = bytes
        damaged[bytes.count - 1] ^= 0x01
        assertFails(damaged, .corrupt, containing: "end marker")
    }

    func testWrongMagicNamesTheKindOfFile() throws {
        let bytes = try encoded()
        assertFails(bytes, as: .pack, .unsupported, containing: "this is a model file, not a dataset pack")
        assertFails(bytes, as: .checkpoint, .unsupported, containing: "this is a model file, not a training checkpoint")
        var other = bytes
        other[0] = UInt8(ascii: "X")
        assertFails(other, .unsupported, containing: "not a Percept model file (it does not start with \"PRCPTMDL\")")
        assertFails(Array("GIF89a and more bytes here".utf8), .unsupported, containing: "not a Percept model file")
    }

    func testNewerVersionAsksForAnUpgradeAndOlderGoesToTheLegacyReader() throws {
        var bytes = try encoded()
        bytes[8] = 3
        XCTAssertThrowsError(try open(bytes)) { error in
            XCTAssertEqual(error as? PerceptError,
                .unsupported("f.bin", "model file format version 3 is newer than this Percept (reads 2); upgrade Percept"))
        }
        bytes[8] = 0
        assertFails(bytes, .corrupt, containing: "version 0 does not exist")
        bytes[8] = 1
        guard case .legacy(1, _) = try BinaryContainer.open(FileBytes(copying: Data(bytes)), path: "f.bin", as: .model) else {
            return XCTFail("version 1 is read by the kind's legacy reader")
        }
    }

    // MARK: - Array tables that do not fit

    /// A container with `table` as its array table over `payload`, checksummed correctly, so only
    /// the table check can refuse it.
    private func assemble(table: String, payload: Int = 256) -> [UInt8] {
        var header = Array("{\"arrays\":\(table),\"content\":{\"sizes\":[],\"title\":\"t\"}}".utf8)
        while (32 + header.count) % 64 != 0 { header.append(0x20) }
        var writer = ByteWriter()
        writer.append(Array("PRCPTMDL".utf8))
        writer.append(UInt32(2))
        writer.append(UInt32(0))
        writer.append(UInt64(32 + header.count + payload + 16))
        writer.append(UInt64(header.count))
        writer.append(header)
        writer.append([UInt8](repeating: 7, count: payload))
        writer.append(UInt32(truncatingIfNeeded: CRC32.checksum(writer.bytes)))
        writer.append(UInt32(0))
        writer.append(Array("PRCPTEND".utf8))
        return writer.bytes
    }

    private func row(_ name: String, _ type: String = "float32", shape: [Int], offset: Int, bytes: Int) -> String {
        "{\"name\":\"\(name)\",\"type\":\"\(type)\",\"shape\":\(shape),\"offset\":\(offset),\"byteCount\":\(bytes)}"
    }

    func testAssembledTableIsAcceptedWhenItFits() throws {
        let file = try open(assemble(table: "[\(row("a", shape: [16], offset: 0, bytes: 64)),\(row("b", "uint8", shape: [192], offset: 64, bytes: 192))]"))
        XCTAssertEqual(file.uint8s(try file.entry("b", type: .uint8)), [UInt8](repeating: 7, count: 192))
    }

    func testMisalignedOverlappingOrOversizedArraysAreCorrupt() throws {
        assertFails(assemble(table: "[\(row("a", shape: [4], offset: 8, bytes: 16))]"), .corrupt,
                    containing: "'a' ([4], 16 bytes at offset 8) is not on a 64-byte boundary")
        assertFails(assemble(table: "[\(row("a", shape: [32], offset: 0, bytes: 128)),\(row("b", shape: [4], offset: 64, bytes: 16))]"),
                    .corrupt, containing: "the arrays 'a' and 'b' overlap")
        assertFails(assemble(table: "[\(row("a", shape: [128], offset: 0, bytes: 512))]"), .corrupt,
                    containing: "'a' ([128], 512 bytes at offset 0) does not fit the file")
        assertFails(assemble(table: "[\(row("a", shape: [4], offset: -64, bytes: 16))]"), .corrupt, containing: "does not fit the file")
        assertFails(assemble(table: "[\(row("a", shape: [5], offset: 0, bytes: 16))]"), .corrupt,
                    containing: "does not hold as many float32 values as its shape says")
        assertFails(assemble(table: "[\(row("a", shape: [-4, -1], offset: 0, bytes: 16))]"), .corrupt,
                    containing: "does not hold as many")
        assertFails(assemble(table: "[\(row("a", shape: [1 << 40, 1 << 40], offset: 0, bytes: 16))]"), .corrupt,
                    containing: "does not hold as many")
        assertFails(assemble(table: "[\(row("a", shape: [4], offset: 0, bytes: 16)),\(row("a", shape: [4], offset: 64, bytes: 16))]"),
                    .corrupt, containing: "appears twice")
        assertFails(assemble(table: "\"not a table\""), .corrupt, containing: "the header is not a model file description")
    }

    func testWritingRefusesArraysWhoseShapeDoesNotMatchTheirValues() {
        XCTAssertThrowsError(try BinaryContainer.encode(.model, content: content,
                                                        arrays: [ContainerArray("w", shape: [2, 2], floats: [1, 2, 3])])) {
            XCTAssertEqual(($0 as? PerceptError)?.kind, .invalidArgument)
        }
        XCTAssertThrowsError(try BinaryContainer.encode(.model, content: content,
                                                        arrays: [ContainerArray("w", bytes: [1]), ContainerArray("w", bytes: [2])])) {
            XCTAssertTrue("\($0)".contains("two arrays are named 'w'"))
        }
    }

    func testChecksumIsZlibCRC32WhicheverWayItIsSplit() {
        // 0xCBF43926 is CRC-32's published check value, for the ASCII bytes "123456789".
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
        // Two pieces joined by crc32_combine give the one-pass value.
        let first = CRC32.checksum(Array("12345".utf8)), second = CRC32.checksum(Array("6789".utf8))
        XCTAssertEqual(CRC32.combine(first, second, secondLength: 4), 0xCBF4_3926)
        // 20 MiB is cut into slices on every core; joined, the slices give the one-pass value.
        var bytes = [UInt8](repeating: 0x5A, count: 20 << 20)
        for index in stride(from: 0, to: bytes.count, by: 4099) { bytes[index] = UInt8(truncatingIfNeeded: index >> 7) }
        bytes.withUnsafeBytes { XCTAssertEqual(CRC32.parallelChecksum($0), CRC32.checksum($0)) }
    }
}

private extension Int {
    /// The little-endian UInt64 at `offset` of `bytes`.
    init(littleEndian64 bytes: [UInt8], at offset: Int) {
        self = (0..<8).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
    }
}
