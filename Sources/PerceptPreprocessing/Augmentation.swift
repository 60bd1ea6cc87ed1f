import PerceptCore

/// Random changes to training images, drawn per image from a seed (DeVries & Taylor 2017 for
/// cutout; reflect-padded random crops and flips as in the CIFAR ResNet and airbench recipes).
public struct Augmentation: Codable, Sendable, Equatable {
    /// Random shift of up to ± this many pixels in each direction, edges reflected (the "random
    /// crop with reflect padding"); 0 turns it off.
    public var translate: Int
    /// Mirror left–right with probability ½.
    public var flip: Bool
    /// With `flip`: each image is mirrored at random in the first epoch and then in every other
    /// epoch exactly when it was not in the previous one (airbench's alternating flip), so each
    /// pair of epochs shows both versions of every image.
    public var alternatingFlip: Bool
    /// Side of a square set to the mean at a random place; 0 turns it off.
    public var cutout: Int

    public init(translate: Int = 2, flip: Bool = true, cutout: Int = 0, alternatingFlip: Bool = false) {
        self.translate = max(0, translate)
        self.flip = flip
        self.alternatingFlip = alternatingFlip
        self.cutout = max(0, cutout)
    }

    public static let none = Augmentation(translate: 0, flip: false, cutout: 0)

    /// The alternating flip of dataset item `item` in epoch `epoch`: a coin drawn once per item,
    /// inverted on odd epochs.
    public static func alternatingFlip(item: Int, epoch: Int, seed: UInt64) -> Bool {
        var random = SeededRandom.stream(seed: seed ^ 0xF11F_0000_0000_0001, index: item)
        return (random.next() & 1 == 1) != (epoch % 2 == 1)
    }

    /// The transform of one image, from its own random stream.
    public func transform(height: Int, width: Int, random: inout SeededRandom) -> ImageTransform {
        var t = ImageTransform()
        if translate > 0 {
            let span = UInt64(2 * translate + 1)
            t.dy = Int(random.next() % span) - translate
            t.dx = Int(random.next() % span) - translate
        }
        if flip { t.flip = random.next() & 1 == 1 }
        if cutout > 0 {
            t.cutoutSize = cutout
            // The square's centre is uniform over the image; it may hang over the edge.
            t.cutoutY = Int(random.next() % UInt64(height)) - cutout / 2
            t.cutoutX = Int(random.next() % UInt64(width)) - cutout / 2
        }
        return t
    }
}

/// How one image of a batch is drawn from its source: shifted by (dy, dx) with reflected edges,
/// mirrored, and with a square of `cutoutSize` at (cutoutY, cutoutX) set to zero (the mean).
public struct ImageTransform: Sendable, Equatable {
    public var dy = 0, dx = 0
    public var flip = false
    public var cutoutY = 0, cutoutX = 0, cutoutSize = 0

    public init(dy: Int = 0, dx: Int = 0, flip: Bool = false, cutoutY: Int = 0, cutoutX: Int = 0, cutoutSize: Int = 0) {
        self.dy = dy
        self.dx = dx
        self.flip = flip
        self.cutoutY = cutoutY
        self.cutoutX = cutoutX
        self.cutoutSize = cutoutSize
    }

    public static let identity = ImageTransform()
}
