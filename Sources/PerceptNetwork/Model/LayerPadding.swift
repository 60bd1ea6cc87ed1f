/// A layer's zero padding as the architecture file writes it: one number for every side (`1`), or
/// `[top, left, bottom, right]` for TensorFlow's asymmetric "same" padding (`[0, 0, 1, 1]`).
public struct LayerPadding: Codable, Sendable, Equatable, ExpressibleByIntegerLiteral {
    public var top: Int, left: Int, bottom: Int, right: Int

    public init(top: Int, left: Int, bottom: Int, right: Int) {
        (self.top, self.left, self.bottom, self.right) = (top, left, bottom, right)
    }

    /// The same padding on every side.
    public init(_ all: Int) { self.init(top: all, left: all, bottom: all, right: all) }
    public init(integerLiteral value: Int) { self.init(value) }

    public var isSymmetric: Bool { top == left && top == bottom && top == right }
    public var sides: [Int] { [top, left, bottom, right] }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let all = try? container.decode(Int.self) {
            self.init(all)
            return
        }
        guard let sides = try? container.decode([Int].self), sides.count == 4 else {
            throw DecodingError.dataCorruptedError(in: container,
                debugDescription: "padding must be a number or four numbers [top, left, bottom, right]")
        }
        self.init(top: sides[0], left: sides[1], bottom: sides[2], right: sides[3])
    }

    /// A symmetric padding stays a plain number, so existing architecture files read back unchanged.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if isSymmetric { try container.encode(top) } else { try container.encode(sides) }
    }
}
