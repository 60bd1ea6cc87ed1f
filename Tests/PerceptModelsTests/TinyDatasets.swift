import PerceptCore
import PerceptData

/// A dataset of 1×D single-channel "images" whose pixels are the given rows.
func tinyDataset(_ rows: [[UInt8]], labels: [Int32], classNames: [String]) throws -> Dataset {
    let width = rows.first?.count ?? 1
    return try Dataset(height: 1, width: width, channels: 1, pixels: PixelStorage(copying: rows.flatMap { $0 }),
                       labels: labels, classNames: classNames)
}

/// An N×D tensor of seeded values: Gaussian, or integers 0…255 when `integers`.
func randomTensor(rows: Int, columns: Int, seed: UInt64, integers: Bool = false) -> Tensor {
    var random = SeededRandom(seed: seed)
    let scalars = (0..<(rows * columns)).map { _ in
        integers ? Float(random.next() % 256) : random.nextGaussian()
    }
    return Tensor(shape: [rows, columns], scalars: scalars)
}
