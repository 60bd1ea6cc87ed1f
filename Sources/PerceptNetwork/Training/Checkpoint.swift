import Foundation
import PerceptCore
import PerceptModelKit
import PerceptPreprocessing

/// A training run's whole state at an epoch boundary, so a killed run resumes exactly.
///
/// File layout: magic `PRCPTCKP`, UInt32 format version, UInt64 header length, the header as JSON
/// (architecture, options, class names, progress, history, and the name and size of every
/// array), the arrays as little-endian Float32 in header order, then a CRC-32 of everything
/// before it and the end magic `PRCPTEND`. Written atomically (temporary file, then rename).
struct Checkpoint {
    static let magic = Array("PRCPTCKP".utf8), endMagic = Array("PRCPTEND".utf8)
    static let formatVersion: UInt32 = 1

    struct ArrayEntry: Codable {
        var name: String
        var shape: [Int]
    }

    struct Header: Codable {
        var architecture: Architecture
        var options: TrainingOptions
        var classNames: [String]
        var inputShape: FeatureShape
        var normalization: Normalization
        var completedEpochs: Int
        var globalStep: Int
        var optimizerSteps: Int
        var history: TrainingHistory
        var arrays: [ArrayEntry]
    }

    var header: Header
    /// "network/<name>", "optimizer/<name>", "best/<name>".
    var arrays: [String: Tensor]

    func write(to path: String) throws {
        var header = self.header
        let names = arrays.keys.sorted()
        header.arrays = names.map { ArrayEntry(name: $0, shape: arrays[$0]!.shape) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = try encoder.encode(header)
        var data = Data(Checkpoint.magic)
        withUnsafeBytes(of: Checkpoint.formatVersion.littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for name in names {
            arrays[name]!.scalars.withUnsafeBufferPointer { values in
                // Float32 is little-endian on every platform Percept runs on (x86-64, arm64).
                data.append(UnsafeBufferPointer(start: values.baseAddress, count: values.count))
            }
        }
        let crc = data.withUnsafeBytes { CRC32.checksum($0) }
        withUnsafeBytes(of: crc.littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Checkpoint.endMagic)
        try AtomicFile.write(data, to: path)
    }

    static func read(_ path: String) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PerceptError.io(path, "cannot read the checkpoint")
        }
        let bytes = [UInt8](data)
        func corrupt(_ reason: String) -> PerceptError { .corrupt(path, "not a usable checkpoint: \(reason)") }
        guard bytes.count >= 32, Array(bytes[0..<8]) == magic, Array(bytes[(bytes.count - 8)...]) == endMagic else {
            throw corrupt("missing PRCPTCKP/PRCPTEND markers (truncated, or another kind of file)")
        }
        func uint(_ offset: Int, _ size: Int) -> UInt64 {
            (0..<size).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
        }
        let stored = UInt32(uint(bytes.count - 12, 4))
        let computed = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(bytes.count - 12)])) }
        guard stored == computed else { throw corrupt("checksum mismatch (the file is damaged)") }
        let version = UInt32(uint(8, 4))
        guard version <= formatVersion else {
            throw PerceptError.unsupported(path, "checkpoint format \(version) is newer than this Percept reads (\(formatVersion))")
        }
        let jsonLength = Int(uint(12, 8))
        guard 20 + jsonLength <= bytes.count - 12 else { throw corrupt("header length out of range") }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes[20..<(20 + jsonLength)]))
        } catch {
            throw corrupt("header unreadable: \(error)")
        }
        var offset = 20 + jsonLength
        var arrays = [String: Tensor]()
        for entry in header.arrays {
            let count = entry.shape.reduce(1, *)
            guard entry.shape.allSatisfy({ $0 >= 0 }), offset + 4 * count <= bytes.count - 12 else {
                throw corrupt("array '\(entry.name)' runs past the end")
            }
            let values = bytes.withUnsafeBytes { raw in
                (0..<count).map { i in Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4 * i, as: UInt32.self))) }
            }
            arrays[entry.name] = Tensor(shape: entry.shape, scalars: values)
            offset += 4 * count
        }
        return Checkpoint(header: header, arrays: arrays)
    }
}

/// The process's peak resident memory (Linux: VmHWM in /proc/self/status), in bytes.
public func peakResidentMemoryBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let digits = line.split(separator: " ").compactMap { Int($0) }
        if let kilobytes = digits.first { return kilobytes * 1024 }
    }
    return nil
}
