import PerceptCore

extension PixelStorage {
    /// The pixels of a memory-mapped file, in place: `file` stays mapped while they live.
    convenience init(borrowing range: Range<Int>, of file: FileBytes) {
        let bytes = file.withBorrowedBytes(range) { $0 }
        self.init(bytes: bytes) { _ in withExtendedLifetime(file) {} }
    }

    /// The pixels lent to a container write, without a copy.
    var borrowedBytes: BorrowedBytes { BorrowedBytes(bytes, type: .uint8, owner: self) }
}
