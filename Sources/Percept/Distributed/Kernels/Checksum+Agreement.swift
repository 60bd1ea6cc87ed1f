import Crypto
import Foundation
import PerceptCore
import PerceptData

/// The digests the ranks of a job compare before work starts (`Communicator.requireAgreement`):
/// a model file's bytes, and a dataset's size, pixels, labels and class names. Under Kernels/
/// because the pixels are hashed in place from their raw buffer. Sources (paths) are left out:
/// the same images may sit under different mount points on different machines.
extension Checksum {
    /// SHA-256 of a file's bytes, read a megabyte at a time.
    static func fileDigest(_ path: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw PerceptError.io(path, "cannot open it to check it") }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch {
                throw PerceptError.io(path, "cannot read it to check it: \(error.localizedDescription)")
            }
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        return Array(hasher.finalize())
    }

    /// SHA-256 of what a dataset means to a model: shape, pixels, labels and class names.
    static func contentDigest(_ dataset: Dataset) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: Data("\(dataset.count)x\(dataset.height)x\(dataset.width)x\(dataset.channels)".utf8))
        dataset.withPixelBytes { hasher.update(bufferPointer: $0) }
        dataset.labels.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        for name in dataset.classNames { hasher.update(data: Data((name + "\n").utf8)) }
        return Array(hasher.finalize())
    }
}
