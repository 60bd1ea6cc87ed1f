import CNetworkKernels
import PerceptCore

/// 3×3 stride-1 convolutions by Winograd F(2×2, 3×3) (CNetworkKernels/winograd.c): 2.25× fewer
/// multiplications than im2col + GEMM on large maps, and 4 transformed floats per input pixel
/// written instead of im2col's 9. Used for the forward pass and, with the rotated filter, for the
/// input gradient; the weight gradient stays on im2col + GEMM.
extension ConvKernels {
    /// Whether Winograd F(2×2, 3×3) computes this layer: a 3×3 kernel, stride 1, padding ≤ 2.
    public static func winogradApplies(_ g: ConvGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1 && g.padding <= 2
    }

    /// Where Winograd beats the other paths, measured on airbench94's and ResNet-20's layers
    /// (`percept-bench cnn --profile --winograd on|off`, RESULTS.md): the backward pass from 8 input
    /// channels on (ResNet's 16–64-channel layers 1.3–1.6× faster), the forward pass from 16 (the
    /// direct kernel, taken first where it applies, wins on narrow outputs; with 3 input channels
    /// the transforms cost more than they save).
    public static func prefersWinograd(_ g: ConvGeometry, forward: Bool) -> Bool {
        winogradApplies(g) && g.inChannels >= (forward ? 16 : 8)
    }

    /// Output tiles per image.
    static func winogradTiles(_ g: ConvGeometry) -> Int { ((g.outHeight + 1) / 2) * ((g.outWidth + 1) / 2) }

    /// Images per chunk: as many as keep the larger transformed buffer (16 × tiles × channels)
    /// within `floatBudget` floats, at least one.
    static func winogradChunk(_ g: ConvGeometry, batch: Int, floatBudget: Int) -> Int {
        let perImage = 16 * winogradTiles(g) * max(g.inChannels, g.outChannels)
        return max(1, min(batch, floatBudget / max(1, perImage)))
    }

    /// The transformed filters U (16 × Cin × Cout) of w (3×3×Cin×Cout); with `inputGradient`, those
    /// of the rotated, channel-swapped filter that maps ∂Y to ∂X (16 × Cout × Cin).
    static func winogradWeights(_ g: ConvGeometry, weight: [Float], inputGradient: Bool, into u: UnsafeMutablePointer<Float>) {
        weight.withUnsafeBufferPointer { w in
            percept_winograd_weights(w.baseAddress!, Int32(inputGradient ? g.outChannels : g.inChannels),
                                     Int32(inputGradient ? g.inChannels : g.outChannels), inputGradient ? 1 : 0, u)
        }
    }

    /// Y = conv(X, W) (+ bias), then the epilogue, for `batch` images with transformed filters `u`
    /// (16 × Cin × Cout). `v[w]` and `m[w]` are each worker's scratch: 16 × chunk·tiles × Cin and
    /// × Cout floats. Workers share the images (single-threaded BLAS each), as for narrow im2col layers.
    static func winogradForward(_ g: ConvGeometry, input: UnsafePointer<Float>, batch: Int, u: UnsafePointer<Float>,
                                bias: [Float]?, epilogue: ConvEpilogue = .none, output: UnsafeMutablePointer<Float>,
                                v: [UnsafeMutablePointer<Float>], m: [UnsafeMutablePointer<Float>], chunk: Int) {
        let tiles = winogradTiles(g)
        let (cin, cout) = (g.inChannels, g.outChannels)
        withBias(bias) { biasPointer in
            let fused = epilogue.kernelForm(bias: biasPointer)
            forEachWorker(batch: batch, workers: v.count) { worker, images in
                var first = images.lowerBound
                while first < images.upperBound {
                    let count = min(chunk, images.upperBound - first)
                    let t = count * tiles
                    percept_winograd_input(input, first, count, Int32(g.height), Int32(g.width), Int32(cin),
                                           Int32(g.padding), v[worker], 0, t)
                    for xi in 0..<16 {
                        BLAS.gemm(m: t, n: cout, k: cin, a: v[worker] + xi * t * cin, b: u + xi * cin * cout,
                                  c: m[worker] + xi * t * cout)
                    }
                    percept_winograd_output(m[worker], first, count, Int32(g.outHeight), Int32(g.outWidth), Int32(cout),
                                            fused, output, 0, t)
                    first += count
                }
            }
        }
    }

    /// dW (3×3×Cin×Cout, overwritten) for `batch` images: each worker sums Ŵ[ξ] = V[ξ]ᵀ·Ĝ[ξ] over
    /// its chunks into `what[w]` (16 × Cin × Cout), the workers' sums are added in worker order,
    /// and Ŵ is folded back to 3×3. Scratch as for `winogradForward`.
    static func winogradWeightGradient(_ g: ConvGeometry, input: UnsafePointer<Float>, batch: Int,
                                       dOutput: UnsafePointer<Float>, dWeight: inout [Float],
                                       v: [UnsafeMutablePointer<Float>], m: [UnsafeMutablePointer<Float>],
                                       what: [UnsafeMutablePointer<Float>], chunk: Int) {
        let tiles = winogradTiles(g)
        let (cin, cout) = (g.inChannels, g.outChannels)
        let size = 16 * cin * cout
        forEachWorker(batch: batch, workers: v.count) { worker, images in
            what[worker].update(repeating: 0, count: size)
            var first = images.lowerBound
            while first < images.upperBound {
                let count = min(chunk, images.upperBound - first)
                let t = count * tiles
                percept_winograd_input(input, first, count, Int32(g.height), Int32(g.width), Int32(cin),
                                       Int32(g.padding), v[worker], 0, t)
                percept_winograd_output_gradient(dOutput, first, count, Int32(g.outHeight), Int32(g.outWidth),
                                                 Int32(cout), m[worker], 0, t)
                for xi in 0..<16 {
                    BLAS.gemm(transposeA: true, m: cin, n: cout, k: t, a: v[worker] + xi * t * cin,
                              b: m[worker] + xi * t * cout, beta: 1, c: what[worker] + xi * cin * cout)
                }
                first += count
            }
        }
        let total = what[0]
        for worker in 1..<max(1, what.count) {
            let partial = what[worker]
            for i in 0..<size { total[i] += partial[i] }
        }
        dWeight.withUnsafeMutableBufferPointer { dw in
            percept_winograd_weight_gradient(total, Int32(cin), Int32(cout), dw.baseAddress!)
        }
    }

    /// The geometry of the input-gradient convolution of a 3×3 stride-1 layer: ∂Y (OH×OW×Cout)
    /// convolved with the rotated filter and padding 2 − p gives ∂X (H×W×Cin).
    static func winogradInputGradientGeometry(_ g: ConvGeometry) -> ConvGeometry {
        ConvGeometry(height: g.outHeight, width: g.outWidth, inChannels: g.outChannels, kernelHeight: 3, kernelWidth: 3,
                     stride: 1, padding: 2 - g.padding, outChannels: g.inChannels)
    }
}
