import Crypto
import Foundation
import PerceptData

/// SHA-256 digests as lowercase hex: of files (backbones) and of datasets' pixels (the feature cache).
/// Here, under Kernels/, because a dataset's pixels are hashed in place from their raw buffer.
enum Checksum {
    static func sha256(_ data: Data) -> String { hex(SHA256.hash(data: data)) }

    /// The digest of a dataset's size and pixels (labels and names do not change features).
    static func sha256(_ dataset: Dataset) -> String {
        var hasher = SHA256()
        hasher.update(data: Data("\(dataset.count)x\(dataset.height)x\(dataset.width)x\(dataset.channels)".utf8))
        hasher.update(data: dataset.pixels.bytes)
        return hex(hasher.finalize())
    }

    /// The digest of everything a training job's ranks must share: both splits' sizes, pixels,
    /// labels and class names (data-parallel ranks refuse to start when theirs differ).
    static func sha256(train: Dataset, validation: Dataset?) -> [UInt8] {
        var hasher = SHA256()
        for dataset in [train] + (validation.map { [$0] } ?? []) {
            hasher.update(data: Data("\(dataset.count)x\(dataset.height)x\(dataset.width)x\(dataset.channels)".utf8))
            hasher.update(data: dataset.pixels.bytes)
            dataset.labels.withUnsafeBytes { hasher.update(bufferPointer: $0) }
            hasher.update(data: Data(dataset.classNames.joined(separator: "\n").utf8))
        }
        return Array(hasher.finalize())
    }

    static func sha256(_ text: String) -> String { sha256(Data(text.utf8)) }

    private static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
