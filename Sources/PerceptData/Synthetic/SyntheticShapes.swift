import PerceptCore
import PerceptImage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Percept's embedded default dataset: ten classes of drawn shapes and textures, generated
/// procedurally, so the demo and the tests need no download.
///
/// Every image has random foreground and background colours, a lighting gradient, random
/// position, size and rotation, small distractor strokes and blobs, and pixel noise. Colour
/// and position carry no information about the class, so nearest neighbours on raw pixels do
/// only moderately well (see `Tests/PerceptModelsTests`), while the shapes stay plain enough
/// for a small CNN to learn.
///
/// Generation is deterministic: image `index` draws from its own stream
/// `SeededRandom.stream(seed:index:)`, so the bytes never depend on the thread count.
public struct SyntheticShapes: Sendable {
    /// The classes, in label order.
    public static let classNames = [
        "circle", "square", "triangle", "star", "cross",
        "ring", "horizontal-stripes", "vertical-stripes", "checkerboard", "dots",
    ]

    public let imageSize: ImageSize
    public let seed: UInt64
    /// Standard deviation of the Gaussian pixel noise, as a fraction of full scale (0.06 ≈ ±15 levels).
    public let noise: Float
    /// The most distractor strokes and blobs per image (each image draws 0…clutter behind the
    /// shape and up to half as many in front).
    public let clutter: Int

    /// How far the shape's centre strays from the image centre, as a fraction of the image size.
    let shift: Float = 1.0 / 6

    public init(imageSize: ImageSize = .init(width: 32, height: 32), seed: UInt64 = 0,
                noise: Float = 0.06, clutter: Int = 3) {
        self.imageSize = imageSize
        self.seed = seed
        self.noise = max(0, noise)
        self.clutter = max(0, clutter)
    }

    /// Draws image `index` of class `label` (`0..<classNames.count`).
    public func image(index: Int, label: Int) -> Image {
        precondition(SyntheticShapes.classNames.indices.contains(label),
                     "SyntheticShapes: label \(label) outside 0..<\(SyntheticShapes.classNames.count)")
        var random = SeededRandom.stream(seed: seed, index: index)
        let width = imageSize.width, height = imageSize.height
        let size = Float(min(width, height))

        // Hue is free, but the shape is always lighter than its background, as ink is darker
        // than paper: polarity is the one colour cue that pixel distances can use.
        let background = randomColour(&random, brightness: 0...0.45)
        let foreground = randomColour(&random, brightness: 0.55...1)
        var canvas = Canvas(width: width, height: height, background: background)
        canvas.addGradient(direction: random.nextUnitFloat() * 2 * .pi, strength: random.nextUnitFloat() * 0.5)

        drawClutter(on: &canvas, count: Int(random.next() % UInt64(clutter + 1)), size: size, &random)
        drawClass(label, on: &canvas, colour: foreground, size: size, &random)
        drawClutter(on: &canvas, count: Int(random.next() % UInt64(clutter / 2 + 1)), size: size, &random)
        canvas.addNoise(sigma: noise, using: &random)
        return canvas.image()
    }

    /// A balanced dataset: `perClass` images of every class, in an order shuffled by the seed.
    /// Sources read `synthetic/<class>/<number within class>`, e.g. `synthetic/circle/00017`.
    ///
    /// - Parameter threads: workers for drawing (`nil`: every core); the bytes are the same for any count.
    public func makeDataset(perClass: Int, threads: Int? = nil) throws -> Dataset {
        guard perClass > 0 else {
            throw PerceptError.invalidArgument("SyntheticShapes needs at least 1 image per class, got \(perClass)")
        }
        guard imageSize.width >= 8, imageSize.height >= 8, imageSize.width <= 4096, imageSize.height <= 4096 else {
            throw PerceptError.invalidArgument(
                "SyntheticShapes draws images from 8x8 to 4096x4096, got \(imageSize)")
        }
        let classCount = SyntheticShapes.classNames.count
        let count = perClass * classCount
        // Labels are shuffled with a stream no image uses (images use indices 0..<count).
        var shuffler = SeededRandom.stream(seed: seed, index: -1)
        let labels = (0..<count).map { Int32($0 % classCount) }.shuffled(using: &shuffler)

        var numberWithinClass = [Int](repeating: 0, count: classCount)
        let sources = labels.map { label -> String in
            let number = numberWithinClass[Int(label)]
            numberWithinClass[Int(label)] += 1
            let digits = String(number)
            let padded = String(repeating: "0", count: max(0, 5 - digits.count)) + digits
            return "synthetic/\(SyntheticShapes.classNames[Int(label)])/\(padded)"
        }

        let stride = imageSize.pixelCount * Image.channels
        let storage = PixelStorage(rowCount: count, rowBytes: stride, threads: threads) { index in
            self.image(index: index, label: Int(labels[index])).pixels
        }
        return try Dataset(height: imageSize.height, width: imageSize.width, channels: Image.channels,
                           pixels: storage, labels: labels, classNames: SyntheticShapes.classNames,
                           sources: sources)
    }

    // MARK: - Drawing

    /// A random colour whose channels lie in `brightness`.
    private func randomColour(_ random: inout SeededRandom, brightness: ClosedRange<Float> = 0...1) -> SIMD3<Float> {
        let span = brightness.upperBound - brightness.lowerBound
        return SIMD3(random.nextUnitFloat(), random.nextUnitFloat(), random.nextUnitFloat()) * span
            + SIMD3(repeating: brightness.lowerBound)
    }

    private func drawClutter(on canvas: inout Canvas, count: Int, size: Float, _ random: inout SeededRandom) {
        let width = Float(canvas.width), height = Float(canvas.height)
        for _ in 0..<count {
            let colour = randomColour(&random)
            let start = SIMD2(random.nextUnitFloat() * width, random.nextUnitFloat() * height)
            if random.next() % 2 == 0 {
                // A short stroke.
                let angle = random.nextUnitFloat() * 2 * .pi
                let length = size * (0.1 + 0.25 * random.nextUnitFloat())
                let end = start + SIMD2(cos(angle), sin(angle)) * length
                let halfWidth = 0.4 + 0.6 * random.nextUnitFloat()
                canvas.fill(colour) { x, y in Geometry.capsule(SIMD2(x, y), start, end, width: halfWidth) }
            } else {
                // A small blob.
                let radius = size * (0.03 + 0.05 * random.nextUnitFloat())
                canvas.fill(colour) { x, y in Geometry.circle(SIMD2(x, y) - start, radius: radius) }
            }
        }
    }

    /// Draws one instance of class `label` at a random place, size and rotation.
    private func drawClass(_ label: Int, on canvas: inout Canvas, colour: SIMD3<Float>, size: Float,
                           _ random: inout SeededRandom) {
        let width = Float(canvas.width), height = Float(canvas.height)
        let radius = size * (0.24 + 0.14 * random.nextUnitFloat())
        // Centred give or take a sixth of the image: far enough to defeat pixel matching, near
        // enough that the shape stays mostly in frame.
        let jitter = size * shift
        let place = Geometry.Placement(
            centreX: width / 2 + (random.nextUnitFloat() * 2 - 1) * jitter,
            centreY: height / 2 + (random.nextUnitFloat() * 2 - 1) * jitter,
            radius: radius, rotation: random.nextUnitFloat() * 2 * .pi)
        let name = SyntheticShapes.classNames[label]
        switch name {
        case "circle":
            canvas.fill(colour) { x, y in Geometry.circle(place.local(x, y), radius: 1) * radius }
        case "square":
            canvas.fill(colour) { x, y in Geometry.box(place.local(x, y), half: SIMD2(0.8, 0.8)) * radius }
        case "triangle":
            canvas.fill(colour) { x, y in Geometry.triangle(place.local(x, y), radius: 1.1) * radius }
        case "star":
            canvas.fill(colour) { x, y in Geometry.star(place.local(x, y), outer: 1.15, inner: 0.45) * radius }
        case "cross":
            let thickness: Float = 0.22 + 0.1 * random.nextUnitFloat()
            canvas.fill(colour) { x, y in Geometry.cross(place.local(x, y), arm: 1, thickness: thickness) * radius }
        case "ring":
            let thickness = max(0.12, 1.2 / radius) + 0.1 * random.nextUnitFloat()
            canvas.fill(colour) { x, y in Geometry.ring(place.local(x, y), radius: 0.85, thickness: thickness) * radius }
        default:
            drawTexture(name, on: &canvas, colour: colour, place: place, size: size, &random)
        }
    }

    /// Textures fill a patch (a disc or a rotated square) larger than the shapes; the pattern's
    /// orientation varies by at most ±15° so horizontal and vertical stripes stay distinct.
    private func drawTexture(_ name: String, on canvas: inout Canvas, colour: SIMD3<Float>,
                             place: Geometry.Placement, size: Float, _ random: inout SeededRandom) {
        var patch = place
        patch.radius = size * (0.3 + 0.2 * random.nextUnitFloat())
        let disc = random.next() % 2 == 0
        let tilt = (random.nextUnitFloat() - 0.5) * (Float.pi / 6)
        let phase = random.nextUnitFloat() * 2 * .pi
        let scale = size / 32  // periods are tuned for 32×32 and scale with the image
        let period = scale * (4 + 3 * random.nextUnitFloat())
        let c = cos(tilt), s = sin(tilt)
        let dotPhase = SIMD2(random.nextUnitFloat(), random.nextUnitFloat()) * period
        let dotRadius = period * (0.22 + 0.1 * random.nextUnitFloat())

        canvas.paint(colour) { x, y in
            let mask = disc ? Geometry.circle(patch.local(x, y), radius: 1) * patch.radius
                            : Geometry.box(patch.local(x, y), half: SIMD2(0.85, 0.85)) * patch.radius
            let inside = Geometry.coverage(distance: mask)
            guard inside > 0 else { return 0 }
            // Pattern coordinates: tilted by a few degrees, independent of the patch's rotation.
            let u = c * x + s * y, v = -s * x + c * y
            let pattern: Float
            switch name {
            case "horizontal-stripes":
                pattern = Geometry.stripes(v, period: period, phase: phase)
            case "vertical-stripes":
                pattern = Geometry.stripes(u, period: period, phase: phase)
            case "checkerboard":
                let a = Geometry.stripes(u, period: period * 1.5, phase: phase)
                let b = Geometry.stripes(v, period: period * 1.5, phase: phase)
                pattern = a + b - 2 * a * b  // a soft exclusive-or of two stripe patterns
            default:  // dots on a square grid
                let cellU = (u + dotPhase.x).truncatingRemainder(dividingBy: period)
                let cellV = (v + dotPhase.y).truncatingRemainder(dividingBy: period)
                let offset = SIMD2(wrap(cellU, period), wrap(cellV, period)) - SIMD2(repeating: period / 2)
                pattern = Geometry.coverage(distance: Geometry.length(offset) - dotRadius)
            }
            return inside * pattern
        }
    }

    /// `value` mod `period`, in [0, period).
    private func wrap(_ value: Float, _ period: Float) -> Float {
        value < 0 ? value + period : value
    }
}
