import PerceptCore
import PerceptImage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small RGB canvas of Float colours in [0, 1] that shapes are painted onto by coverage.
///
/// Shapes are described by signed distance functions (negative inside, in pixels), and a
/// pixel's coverage is `clamp(0.5 − distance, 0, 1)`: a one-pixel ramp across every edge,
/// which is the cheapest anti-aliasing that still looks smooth at 32×32.
struct Canvas {
    let width: Int
    let height: Int
    /// H×W×3 colours, row-major, RGB interleaved.
    var colours: [Float]

    init(width: Int, height: Int, background: SIMD3<Float>) {
        self.width = width
        self.height = height
        colours = [Float](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            colours[3 * i] = background.x
            colours[3 * i + 1] = background.y
            colours[3 * i + 2] = background.z
        }
    }

    /// Blends `colour` over the canvas with the per-pixel coverage `coverage(x, y)` in [0, 1],
    /// where (x, y) is the pixel centre in pixel units.
    mutating func paint(_ colour: SIMD3<Float>, coverage: (Float, Float) -> Float) {
        for row in 0..<height {
            let y = Float(row) + 0.5
            for column in 0..<width {
                let alpha = coverage(Float(column) + 0.5, y)
                guard alpha > 0 else { continue }
                let i = 3 * (row * width + column)
                colours[i] += (colour.x - colours[i]) * alpha
                colours[i + 1] += (colour.y - colours[i + 1]) * alpha
                colours[i + 2] += (colour.z - colours[i + 2]) * alpha
            }
        }
    }

    /// Paints the inside of a signed distance function given in pixels.
    mutating func fill(_ colour: SIMD3<Float>, distance: (Float, Float) -> Float) {
        paint(colour) { x, y in Geometry.coverage(distance: distance(x, y)) }
    }

    /// Adds a linear brightness ramp across the image (lighting), so the background is not flat.
    mutating func addGradient(direction angle: Float, strength: Float) {
        let dx = cos(angle), dy = sin(angle)
        let cx = Float(width) / 2, cy = Float(height) / 2
        let scale = 1 / Float(max(width, height))
        for row in 0..<height {
            for column in 0..<width {
                let t = ((Float(column) + 0.5 - cx) * dx + (Float(row) + 0.5 - cy) * dy) * scale
                let i = 3 * (row * width + column)
                for c in 0..<3 { colours[i + c] += strength * t }
            }
        }
    }

    /// Adds independent Gaussian noise of standard deviation `sigma` to every channel.
    mutating func addNoise(sigma: Float, using random: inout SeededRandom) {
        guard sigma > 0 else { return }
        for i in colours.indices { colours[i] += sigma * random.nextGaussian() }
    }

    /// Rounds to bytes, clamping out-of-range colours.
    func image() -> Image {
        Image(width: width, height: height, pixels: colours.map { UInt8(min(max($0, 0), 1) * 255 + 0.5) })
    }
}

/// Signed distance functions (negative inside) in a shape's own unit coordinates, and the
/// transform from pixels to those coordinates.
enum Geometry {
    static func coverage(distance: Float) -> Float { min(max(0.5 - distance, 0), 1) }

    /// Where a shape sits: centre and radius in pixels, rotation in radians.
    struct Placement {
        var centreX: Float, centreY: Float, radius: Float, rotation: Float

        /// Pixel (x, y) in the shape's unit frame: centred, unrotated, radius 1.
        func local(_ x: Float, _ y: Float) -> SIMD2<Float> {
            let dx = x - centreX, dy = y - centreY
            let c = cos(rotation), s = sin(rotation)
            return SIMD2(c * dx + s * dy, -s * dx + c * dy) / radius
        }
    }

    static func length(_ p: SIMD2<Float>) -> Float { (p.x * p.x + p.y * p.y).squareRoot() }

    static func circle(_ p: SIMD2<Float>, radius: Float) -> Float { length(p) - radius }

    /// An axis-aligned box with half-sizes `half`.
    static func box(_ p: SIMD2<Float>, half: SIMD2<Float>) -> Float {
        let qx = abs(p.x) - half.x, qy = abs(p.y) - half.y
        let outside = length(SIMD2(max(qx, 0), max(qy, 0)))
        return outside + min(max(qx, qy), 0)
    }

    /// An equilateral triangle with circumradius `r`, pointing up (exact distance, after Quílez).
    static func triangle(_ p: SIMD2<Float>, radius r: Float) -> Float {
        let k = Float(3).squareRoot()
        let side = r * k / 2  // half the side length
        var x = abs(p.x) - side
        var y = -p.y + side / k  // image y grows downward; flip so the apex points up
        if x + k * y > 0 {
            let nx = (x - k * y) / 2, ny = (-k * x - y) / 2
            x = nx; y = ny
        }
        x -= min(max(x, -2 * side), 0)
        return -length(SIMD2(x, y)) * (y < 0 ? -1 : 1)
    }

    /// A five-pointed star, as a polar radius profile; close enough to a true distance near the
    /// edge for a one-pixel anti-aliasing ramp.
    static func star(_ p: SIMD2<Float>, outer: Float, inner: Float) -> Float {
        let angle = atan2(p.x, -p.y)  // 0 at the top point
        let sector = 2 * Float.pi / 5
        var t = angle.truncatingRemainder(dividingBy: sector)
        if t < 0 { t += sector }
        let fold = abs(t / sector - 0.5) * 2  // 1 at a point, 0 between points
        let edge = inner + (outer - inner) * fold
        return (length(p) - edge) * 0.7  // the profile's slope overstates distance; soften it
    }

    /// A plus sign: two crossed bars of half-length `arm` and half-thickness `thickness`.
    static func cross(_ p: SIMD2<Float>, arm: Float, thickness: Float) -> Float {
        min(box(p, half: SIMD2(arm, thickness)), box(p, half: SIMD2(thickness, arm)))
    }

    static func ring(_ p: SIMD2<Float>, radius: Float, thickness: Float) -> Float {
        abs(length(p) - radius) - thickness
    }

    /// A line segment from `a` to `b` with rounded ends (a stroke of half-width `width`).
    static func capsule(_ p: SIMD2<Float>, _ a: SIMD2<Float>, _ b: SIMD2<Float>, width: Float) -> Float {
        let pa = p - a, ba = b - a
        let lengthSquared = max((ba * ba).sum(), 1e-6)
        let h = min(max((pa * ba).sum() / lengthSquared, 0), 1)
        return length(pa - ba * h) - width
    }

    /// A soft 0/1 square wave along `u` with the given period in pixels: 1 on the first half of
    /// each period. Scaling the sine by period/2π gives a ramp about one pixel wide.
    static func stripes(_ u: Float, period: Float, phase: Float) -> Float {
        let s = sin(2 * Float.pi * u / period + phase)
        return min(max(0.5 + s * period / (2 * Float.pi), 0), 1)
    }
}
