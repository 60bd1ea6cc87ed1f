import PerceptCore

/// Row-wise pixel copies: the one place datasets, generators and indexes move image bytes.
extension PixelStorage {
    /// `rowCount` rows of `rowBytes` bytes, row i being `makeRow(i)` (exactly `rowBytes` bytes),
    /// made and copied in on every core.
    public convenience init(rowCount: Int, rowBytes: Int, threads: Int? = nil, makeRow: (Int) -> [UInt8]) {
        self.init(count: rowCount * rowBytes) { destination in
            nonisolated(unsafe) let destination = destination
            Parallel.forEachChunk(count: rowCount, threads: threads, chunksPerThread: 4) { range in
                for index in range {
                    let row = makeRow(index)
                    precondition(row.count == rowBytes, "row \(index) has \(row.count) bytes, not \(rowBytes)")
                    row.withUnsafeBytes { source in
                        UnsafeMutableRawBufferPointer(rebasing: destination[(index * rowBytes)..<((index + 1) * rowBytes)])
                            .copyMemory(from: source)
                    }
                }
            }
        }
    }

    /// The rows `indices` of `source` (rows of `rowBytes` bytes), in that order.
    public convenience init(gathering indices: [Int], from source: PixelStorage, rowBytes: Int) {
        let rows = source.count / max(rowBytes, 1)
        self.init(count: indices.count * rowBytes) { destination in
            guard let base = destination.baseAddress, let start = source.bytes.baseAddress else { return }
            nonisolated(unsafe) let output = base
            withExtendedLifetime(source) {
                Parallel.forEachChunk(count: indices.count, minimumChunk: 4096) { range in
                    for (offset, index) in zip(range, indices[range]) {
                        precondition(index >= 0 && index < rows, "row \(index) out of 0..<\(rows)")
                        (output + offset * rowBytes).copyMemory(from: start + index * rowBytes, byteCount: rowBytes)
                    }
                }
            }
        }
    }

    /// A copy of row `index` (rows of `rowBytes` bytes).
    public func row(_ index: Int, rowBytes: Int) -> [UInt8] {
        withExtendedLifetime(self) { Array(bytes[(index * rowBytes)..<((index + 1) * rowBytes)]) }
    }
}

extension Dataset {
    /// The bytes of item `index`. The pointer is valid only while this dataset (its storage, which
    /// may be a memory map) is alive: use it at once, or go through `withPixelBytes`.
    public func pixels(at index: Int) -> UnsafeRawBufferPointer {
        let start = index * imageByteCount
        return UnsafeRawBufferPointer(rebasing: pixels.bytes[start..<(start + imageByteCount)])
    }

    /// Calls `body` with all pixel bytes, keeping the storage (perhaps a memory map) alive
    /// for the duration: the pointer must not escape.
    public func withPixelBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(pixels) { try body(pixels.bytes) }
    }
}
