/// A dense Float32 array with a shape, stored contiguously in row-major order.
///
/// A value type: copies share storage until one is written (Swift arrays are copy-on-write).
/// Shape letters used across Percept: N items, C channels or classes, H height, W width,
/// D feature dimension, K neighbours or kernel size.
public struct Tensor: Sendable, Equatable {
    public private(set) var shape: [Int]
    public var scalars: [Float]

    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == scalars.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, scalars: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public var count: Int { scalars.count }
    public var rank: Int { shape.count }

    /// The number of rows when viewed as a matrix: the first dimension.
    public var rows: Int { shape.first ?? 1 }
    /// The row length when viewed as a matrix: the product of all dimensions but the first.
    public var columns: Int { shape.dropFirst().reduce(1, *) }

    public subscript(row: Int, column: Int) -> Float {
        get { scalars[row * columns + column] }
        set { scalars[row * columns + column] = newValue }
    }

    /// The same scalars under a new shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, scalars: scalars)
    }
}
