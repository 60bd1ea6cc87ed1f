import Foundation
import PerceptCore

/// CIFAR's record layout to Percept's pixels: each kept record's three colour planes
/// (1,024 R, 1,024 G, 1,024 B) interleaved into H×W×C, on every core.
extension CIFARBinary {
    static func interleavedPixels(batches: [Batch], keptRecords: [[Int]], count: Int, variant: Variant) -> PixelStorage {
        let recordBytes = variant.recordByteCount
        return PixelStorage(count: count * imageByteCount) { destination in
            guard let output = destination.baseAddress else { return }
            var firstItem = 0
            for (batch, kept) in zip(batches, keptRecords) {
                batch.bytes.withUnsafeBytes { raw in
                    guard let input = raw.baseAddress else { return }
                    Parallel.forEachChunk(count: kept.count, minimumChunk: 256) { range in
                        for offset in range {
                            transposePlanes(from: input + kept[offset] * recordBytes + variant.labelByteCount,
                                            to: output + (firstItem + offset) * imageByteCount)
                        }
                    }
                }
                firstItem += kept.count
            }
        }
    }

    /// 1,024 R, 1,024 G, 1,024 B → 1,024 RGB triples.
    @inline(__always)
    private static func transposePlanes(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer) {
        let planes = source.assumingMemoryBound(to: UInt8.self)
        let pixels = destination.assumingMemoryBound(to: UInt8.self)
        let planeSize = side * side
        for pixel in 0..<planeSize {
            pixels[3 * pixel] = planes[pixel]
            pixels[3 * pixel + 1] = planes[planeSize + pixel]
            pixels[3 * pixel + 2] = planes[2 * planeSize + pixel]
        }
    }

    /// Decodes one batch held in memory (a file, an archive entry) into a dataset.
    ///
    /// - Parameter classNames: defaults to the CIFAR-10 names for `.cifar10`, `class_N` otherwise.
    public static func decode(batch bytes: UnsafeRawBufferPointer, name: String, variant: Variant,
                              classNames: [String]? = nil, split: Split = .unassigned) throws -> LoadResult {
        let names = classNames ?? {
            switch variant {
            case .cifar10: cifar10ClassNames
            case .cifar100(.fine): (0..<100).map { "class_\($0)" }
            case .cifar100(.coarse): (0..<20).map { "class_\($0)" }
            }
        }()
        let data = Data(bytes)
        return try decode(batches: [Batch(name: name, split: split, bytes: data)], variant: variant, classNames: names)
    }
}
