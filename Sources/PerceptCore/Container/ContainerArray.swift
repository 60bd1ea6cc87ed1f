/// The element types a container's arrays hold, all little-endian.
public enum ContainerElementType: String, Codable, Sendable {
    case float32, int32, uint8

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32, .int32: 4
        case .uint8: 1
        }
    }
}

/// One row of a container's array table: where an array lies, relative to the start of the
/// arrays (the first byte after the header), and what it holds.
public struct ContainerArrayEntry: Codable, Equatable, Sendable {
    public var name: String
    public var type: ContainerElementType
    public var shape: [Int]
    /// Offset from the start of the arrays; a multiple of `BinaryContainer.alignment`.
    public var offset: Int
    public var byteCount: Int

    public init(name: String, type: ContainerElementType, shape: [Int], offset: Int, byteCount: Int) {
        self.name = name
        self.type = type
        self.shape = shape
        self.offset = offset
        self.byteCount = byteCount
    }

    /// The number of elements the shape implies, or nil when a dimension is negative or the
    /// product overflows.
    var elementCount: Int? {
        var count = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }
}

/// An array to write: a name, a shape and the values, owned (`[Float]`, `[Int32]`, `[UInt8]`)
/// or borrowed from memory that outlives the write (a dataset's pixels; see `borrowing`).
public struct ContainerArray {
    public let name: String
    public let shape: [Int]
    let values: Values

    enum Values {
        case float32([Float])
        case int32([Int32])
        case uint8([UInt8])
        case borrowed(BorrowedBytes)
    }

    public init(_ name: String, shape: [Int], floats: [Float]) {
        self.init(name: name, shape: shape, values: .float32(floats))
    }

    public init(_ name: String, shape: [Int], int32s: [Int32]) {
        self.init(name: name, shape: shape, values: .int32(int32s))
    }

    public init(_ name: String, bytes: [UInt8], shape: [Int]? = nil) {
        self.init(name: name, shape: shape ?? [bytes.count], values: .uint8(bytes))
    }

    init(name: String, shape: [Int], values: Values) {
        self.name = name
        self.shape = shape
        self.values = values
    }

    var type: ContainerElementType {
        switch values {
        case .float32: .float32
        case .int32: .int32
        case .uint8: .uint8
        case .borrowed(let bytes): bytes.type
        }
    }

    var byteCount: Int {
        switch values {
        case .float32(let values): values.count * 4
        case .int32(let values): values.count * 4
        case .uint8(let values): values.count
        case .borrowed(let bytes): bytes.count
        }
    }
}
