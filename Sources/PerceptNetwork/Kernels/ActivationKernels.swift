import PerceptCore

// Element-wise activations and their derivatives, on both cores.
//
// GELU(x) = x·Φ(x) = ½x(1 + erf(x/√2)), the exact form (PyTorch's default). erf is Eigen's and
// TensorFlow's single-precision rational approximation (odd degree-13 numerator over even
// degree-8 denominator on x clamped to ±4; error ≲ 1e-7 against erf in Double), pure arithmetic
// so the loop vectorises; the derivative Φ(x) + x·φ(x) needs one exp.

public enum ActivationKernels {
    @inline(__always)
    public static func fastErf(_ value: Float) -> Float {
        let x = min(max(value, -4), 4)
        let x2 = x * x
        var p: Float = -2.72614225801306e-10
        p = p * x2 + 2.77068142495902e-08
        p = p * x2 + -2.10102402082508e-06
        p = p * x2 + -5.69250639462346e-05
        p = p * x2 + -7.34990630326855e-04
        p = p * x2 + -2.95459980854025e-03
        p = p * x2 + -1.60960333262415e-02
        p *= x
        var q: Float = -1.45660718464996e-05
        q = q * x2 + -2.13374055278905e-04
        q = q * x2 + -1.68282697438203e-03
        q = q * x2 + -7.37332916720468e-03
        q = q * x2 + -1.42647390514189e-02
        return p / q
    }

    static let inverseSqrt2: Float = 0.70710678118654752
    static let inverseSqrt2Pi: Float = 0.39894228040143268

    public static func reluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, threads: Int) {
        Parallel.forEachChunk(count: count, threads: threads, minimumChunk: 1 << 15) { r in
            for i in r { y[i] = max(x[i], 0) }
        }
    }

    /// dx = dy where x > 0, else 0.
    public static func reluBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                    count: Int, threads: Int) {
        Parallel.forEachChunk(count: count, threads: threads, minimumChunk: 1 << 15) { r in
            // A select between constants, then a multiply: `x > 0 ? dy : 0` makes the load of dy
            // conditional, which LLVM keeps as a scalar branch.
            for i in r { dx[i] = dy[i] * (x[i] > 0 ? 1 : 0) }
        }
    }

    /// The gradient through ReLU6, min(max(x, 0), 6): dx = dy where 0 < x < 6, else 0. `x` may as
    /// well be the clipped output (0 < y < 6 exactly where 0 < x < 6), which is how a layer with
    /// ReLU6 fused into its store (DepthwiseConv2D) uses it.
    public static func relu6Backward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                     count: Int, threads: Int) {
        Parallel.forEachChunk(count: count, threads: threads, minimumChunk: 1 << 15) { r in
            for i in r { dx[i] = dy[i] * (x[i] > 0 && x[i] < 6 ? 1 : 0) }
        }
    }

    public static func geluForward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int, threads: Int) {
        Parallel.forEachChunk(count: count, threads: threads, minimumChunk: 1 << 15) { r in
            for i in r {
                let v = x[i]
                y[i] = 0.5 * v * (1 + fastErf(v * inverseSqrt2))
            }
        }
    }

    public static func geluBackward(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                    count: Int, threads: Int) {
        Parallel.forEachChunk(count: count, threads: threads, minimumChunk: 1 << 15) { r in
            for i in r {
                let v = x[i]
                let cdf = 0.5 * (1 + fastErf(v * inverseSqrt2))
                let pdf = inverseSqrt2Pi * fastExp(-0.5 * v * v)
                dx[i] = dy[i] * (cdf + v * pdf)
            }
        }
    }

    /// eˣ for x ≤ 0 down to −87 (GELU's φ), as 2^(x·log₂e) split into an integer power (built in the
    /// exponent bits) and a degree-6 Taylor polynomial for 2^f on [−½, ½]; relative error ≲ 3e-7.
    @inline(__always)
    public static func fastExp(_ value: Float) -> Float {
        let t = max(value, -87) * 1.44269504088896341
        // Round to nearest by the 1.5·2²³ trick (vectorises, unlike a call to rint).
        let n = (t + 12_582_912) - 12_582_912
        let f = t - n
        var p: Float = 1.5403530393381606e-4
        p = p * f + 1.3333558146428443e-3
        p = p * f + 9.618129107628477e-3
        p = p * f + 5.550410866482158e-2
        p = p * f + 2.4022650695910071e-1
        p = p * f + 6.9314718055994531e-1
        p = p * f + 1.0
        // 2ⁿ built in the exponent bits: n + 2²³ + 127 holds n + 127 in its low mantissa bits, and
        // shifting them up 23 places makes them the exponent (no Float→Int conversion, which would
        // not vectorise). The clamp to −87 keeps n ≥ −126.
        return p * Float(bitPattern: (n + 8_388_735).bitPattern << 23)
    }

    /// y = s·x
    public static func scale(_ x: UnsafePointer<Float>, by s: Float, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = s * x[i] }
    }

    /// z = x + y
    public static func add(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, into z: UnsafeMutablePointer<Float>,
                           count: Int, threads: Int) {
        Parallel.forEachChunk(count: count, threads: threads, minimumChunk: 1 << 15) { r in
            for i in r { z[i] = x[i] + y[i] }
        }
    }
}
