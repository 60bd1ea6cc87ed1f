import PerceptCore

/// The import's output while the decoding workers fill it: one pixel slot of `stride` bytes
/// and one `ImageFileRecord` per file, in one allocation each, so every worker writes its
/// images straight into their final place (the only copy is decode → resize → slot).
///
/// Workers write only the slots of the indices they were handed (`Parallel.forEachChunk`),
/// so no locks are needed. Afterwards the readable slots are compacted to the front and the
/// pixel memory is handed to a `PixelStorage` without a copy.
final class DecodedBatch: @unchecked Sendable {
    /// Bytes per image (H·W·C).
    let stride: Int
    private let pixels: UnsafeMutableRawBufferPointer
    private let records: UnsafeMutableBufferPointer<ImageFileRecord>
    /// Set once `storage(keeping:)` has taken the pixel memory over.
    private var pixelsHandedOver = false

    /// Slots for `records.count` images of `stride` bytes each, starting from `records`.
    init(records initial: [ImageFileRecord], stride: Int) {
        self.stride = stride
        pixels = UnsafeMutableRawBufferPointer.allocate(byteCount: max(initial.count * stride, 1), alignment: 64)
        records = UnsafeMutableBufferPointer<ImageFileRecord>.allocate(capacity: initial.count)
        _ = records.initialize(from: initial)
    }

    deinit {
        records.deinitialize().deallocate()
        if !pixelsHandedOver { pixels.deallocate() }
    }

    /// The record of file `index`; a worker may change only the records of its own indices.
    subscript(record index: Int) -> ImageFileRecord {
        get { records[index] }
        set { records[index] = newValue }
    }

    /// Every record, in file order (once the workers are done).
    var allRecords: [ImageFileRecord] { Array(records) }

    /// Copies one fitted image (exactly `stride` bytes) into slot `index`.
    func store(_ image: [UInt8], at index: Int) {
        precondition(image.count == stride && index >= 0 && index < records.count,
                     "image of \(image.count) bytes for slot \(index) of \(records.count) × \(stride)")
        image.withUnsafeBytes { source in
            UnsafeMutableRawBufferPointer(rebasing: pixels[(index * stride)..<((index + 1) * stride)])
                .copyMemory(from: source)
        }
    }

    /// Moves the slots `kept` (ascending) to the front, keeping their order, and hands the
    /// pixel memory to a `PixelStorage` holding just those images. Call once.
    func storage(keeping kept: [Int]) -> PixelStorage {
        precondition(!pixelsHandedOver, "the pixels were already handed over")
        guard let base = pixels.baseAddress else { preconditionFailure("no pixel memory") }
        for (position, index) in kept.enumerated() where position != index {
            precondition(index > position && index < records.count, "slots to keep must ascend")
            (base + position * stride).copyMemory(from: base + index * stride, byteCount: stride)
        }
        pixelsHandedOver = true
        nonisolated(unsafe) let allocation = pixels
        return PixelStorage(bytes: UnsafeRawBufferPointer(rebasing: pixels[0..<(kept.count * stride)])) { _ in
            allocation.deallocate()
        }
    }
}
