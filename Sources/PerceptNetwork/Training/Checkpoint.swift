import Foundation
import PerceptCore
import PerceptModelKit
import PerceptPreprocessing

/// A training run's whole state at an epoch boundary, so a killed run resumes exactly.
///
/// A `BinaryContainer` of kind `.checkpoint` (magic "PRCPTCKP"): the header's content is
/// `Header` (architecture, options, class names, progress, history), the arrays are Float32 in
/// name order. Written atomically (temporary file, then rename). Checkpoints written before the
/// shared container (format version 1) are read by `readLegacy`.
struct Checkpoint {
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
        /// Format version 1 only: the arrays' names and shapes (the container's table holds them now).
        var arrays: [ArrayEntry]
    }

    var header: Header
    /// "network/<name>", "optimizer/<name>", "best/<name>".
    var arrays: [String: Tensor]

    func write(to path: String) throws {
        var header = self.header
        header.arrays = []
        let arrays = self.arrays.sorted { $0.key < $1.key }.map { name, tensor in
            ContainerArray(name, shape: tensor.shape, floats: tensor.scalars)
        }
        try BinaryContainer.write(.checkpoint, content: header, arrays: arrays, to: path)
    }

    static func read(_ path: String) throws -> Checkpoint {
        switch try BinaryContainer.open(path, as: .checkpoint) {
        case .legacy(_, let bytes):
            return try readLegacy(bytes, path: path)
        case .current(let file):
            var arrays = [String: Tensor]()
            for entry in file.arrays {
                guard entry.type == .float32 else {
                    throw PerceptError.corrupt(path, "not a usable checkpoint: the array '\(entry.name)' is not Float32")
                }
                arrays[entry.name] = Tensor(shape: entry.shape, scalars: file.floats(entry))
            }
            return Checkpoint(header: try file.content(as: Header.self), arrays: arrays)
        }
    }

    /// Format version 1: magic `PRCPTCKP`, UInt32 format version, UInt64 header length, the
    /// header as JSON (with the name and shape of every array), the arrays as little-endian
    /// Float32 in header order, a CRC-32 of everything before it and the end magic `PRCPTEND`.
    static func readLegacy(_ bytes: FileBytes, path: String) throws -> Checkpoint {
        func corrupt(_ reason: String) -> PerceptError { .corrupt(path, "not a usable checkpoint: \(reason)") }
        guard bytes.count >= 32, bytes.matches(BinaryContainer.endMagic, at: bytes.count - 8) else {
            throw corrupt("missing PRCPTCKP/PRCPTEND markers (truncated, or another kind of file)")
        }
        let crcOffset = bytes.count - 12
        guard bytes.integer(at: crcOffset) as UInt32 == bytes.checksum(of: 0..<crcOffset) else {
            throw corrupt("checksum mismatch (the file is damaged)")
        }
        var reader = ByteReader(bytes, path: path, offset: 12)
        let jsonLength = try reader.int64()
        guard jsonLength <= crcOffset - 20 else { throw corrupt("header length out of range") }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(try reader.bytes(jsonLength)))
        } catch {
            throw corrupt("header unreadable: \(error)")
        }
        var arrays = [String: Tensor]()
        for entry in header.arrays {
            let count = entry.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
            guard entry.shape.allSatisfy({ $0 >= 0 }), count <= (crcOffset - reader.offset) / 4 else {
                throw corrupt("array '\(entry.name)' runs past the end")
            }
            arrays[entry.name] = Tensor(shape: entry.shape, scalars: try reader.floats(count))
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
