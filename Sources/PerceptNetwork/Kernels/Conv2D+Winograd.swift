import CNetworkKernels
import PerceptCore

/// Winograd's output tile for 3×3 stride-1 convolutions: F(2×2, 3×3) (4×4 input tiles, 16
/// transformed planes; CNetworkKernels/winograd.c) or F(4×4, 3×3) (6×6 input tiles, 36 planes;
/// winograd_f4.c). Per output pixel and channel pair, a direct convolution multiplies 9 times,
/// F(2×2) 4 times and F(4×4) 2.25 times; the larger tile's transforms add more and round a little
/// more, and on small odd maps its tiles hang further over the edge.
public enum WinogradTile: Int, Sendable {
    case two = 2, four = 4
    /// Transformed planes: (m + 2)².
    var planes: Int { (rawValue + 2) * (rawValue + 2) }
}

/// 3×3 stride-1 convolutions by Winograd: far fewer multiplications than im2col + GEMM, and
/// fewer transformed floats written per input pixel than im2col's 9. Used for the forward pass and,
/// with the rotated filter, for the input gradient; the weight gradient multiplies the same
/// transformed inputs with transformed output gradients.
extension ConvKernels {
    /// Whether Winograd computes this layer: a 3×3 kernel, stride 1, padding ≤ 2.
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

    /// The tile for a layer Winograd computes (forward pass and both gradients; the input
    /// gradient's own geometry for its convolution): F(4×4) — measured faster on every layer of airbench94 and ResNet-20 that
    /// takes Winograd, training and inference (`percept-bench cnn --profile --winograd-tile 2|4`,
    /// RESULTS.md) — except on maps smaller than 4×4, where its one tile would be mostly overhang.
    public static func preferredWinogradTile(_ g: ConvGeometry) -> WinogradTile {
        g.outHeight >= 4 && g.outWidth >= 4 ? .four : .two
    }

    /// Output tiles per image.
    static func winogradTiles(_ g: ConvGeometry, tile: WinogradTile = .two) -> Int {
        let m = tile.rawValue
        return ((g.outHeight + m - 1) / m) * ((g.outWidth + m - 1) / m)
    }

    /// Images per chunk: as many as keep the larger transformed buffer (planes × tiles × channels)
    /// within `floatBudget` floats, at least one.
    static func winogradChunk(_ g: ConvGeometry, batch: Int, floatBudget: Int, tile: WinogradTile = .two) -> Int {
        let perImage = tile.planes * winogradTiles(g, tile: tile) * max(g.inChannels, g.outChannels)
        return max(1, min(batch, floatBudget / max(1, perImage)))
    }

    /// The transformed filters U (planes × Cin × Cout) of w (3×3×Cin×Cout); with `inputGradient`,
    /// those of the rotated, channel-swapped filter that maps ∂Y to ∂X (planes × Cout × Cin).
    static func winogradWeights(_ g: ConvGeometry, weight: [Float], inputGradient: Bool, tile: WinogradTile = .two,
                                into u: UnsafeMutablePointer<Float>) {
        let cin = Int32(inputGradient ? g.outChannels : g.inChannels)
        let cout = Int32(inputGradient ? g.inChannels : g.outChannels)
        weight.withUnsafeBufferPointer { w in
            switch tile {
            case .two: percept_winograd_weights(w.baseAddress!, cin, cout, inputGradient ? 1 : 0, u)
            case .four: percept_winograd4_weights(w.baseAddress!, cin, cout, inputGradient ? 1 : 0, u)
            }
        }
    }

    /// Y = conv(X, W) (+ bias), then the epilogue, for `batch` images with transformed filters `u`
    /// (planes × Cin × Cout). `v[w]` and `m[w]` are each worker's scratch: planes × chunk·tiles ×
    /// Cin and × Cout floats. Workers share the images (single-threaded BLAS each), as for narrow
    /// im2col layers.
    static func winogradForward(_ g: ConvGeometry, input: UnsafePointer<Float>, batch: Int, u: UnsafePointer<Float>,
                                bias: [Float]?, epilogue: ConvEpilogue = .none, tile: WinogradTile = .two,
                                output: UnsafeMutablePointer<Float>,
                                v: [UnsafeMutablePointer<Float>], m: [UnsafeMutablePointer<Float>], chunk: Int) {
        let tiles = winogradTiles(g, tile: tile)
        let (cin, cout) = (g.inChannels, g.outChannels)
        let (height, width, padding) = (Int32(g.height), Int32(g.width), Int32(g.padding))
        let (outHeight, outWidth) = (Int32(g.outHeight), Int32(g.outWidth))
        withBias(bias) { biasPointer in
            let fused = epilogue.kernelForm(bias: biasPointer)
            forEachWorker(batch: batch, workers: v.count) { worker, images in
                var first = images.lowerBound
                while first < images.upperBound {
                    let count = min(chunk, images.upperBound - first)
                    let t = count * tiles
                    switch tile {
                    case .two: percept_winograd_input(input, first, count, height, width, Int32(cin), padding, v[worker], 0, t)
                    case .four: percept_winograd4_input(input, first, count, height, width, Int32(cin), padding, v[worker], 0, t)
                    }
                    for xi in 0..<tile.planes {
                        BLAS.gemm(m: t, n: cout, k: cin, a: v[worker] + xi * t * cin, b: u + xi * cin * cout,
                                  c: m[worker] + xi * t * cout)
                    }
                    switch tile {
                    case .two: percept_winograd_output(m[worker], first, count, outHeight, outWidth, Int32(cout), fused, output, 0, t)
                    case .four: percept_winograd4_output(m[worker], first, count, outHeight, outWidth, Int32(cout), fused, output, 0, t)
                    }
                    first += count
                }
            }
        }
    }

    /// dW (3×3×Cin×Cout, overwritten) for `batch` images: each worker sums Ŵ[ξ] = V[ξ]ᵀ·Ĝ[ξ] over
    /// its chunks into `what[w]` (planes × Cin × Cout), the workers' sums are added in worker
    /// order, and Ŵ is folded back to 3×3. Scratch as for `winogradForward`.
    static func winogradWeightGradient(_ g: ConvGeometry, input: UnsafePointer<Float>, batch: Int,
                                       dOutput: UnsafePointer<Float>, dWeight: inout [Float], tile: WinogradTile = .two,
                                       v: [UnsafeMutablePointer<Float>], m: [UnsafeMutablePointer<Float>],
                                       what: [UnsafeMutablePointer<Float>], chunk: Int) {
        let tiles = winogradTiles(g, tile: tile)
        let (cin, cout) = (g.inChannels, g.outChannels)
        let size = tile.planes * cin * cout
        let (height, width, padding) = (Int32(g.height), Int32(g.width), Int32(g.padding))
        let (outHeight, outWidth) = (Int32(g.outHeight), Int32(g.outWidth))
        forEachWorker(batch: batch, workers: v.count) { worker, images in
            what[worker].update(repeating: 0, count: size)
            var first = images.lowerBound
            while first < images.upperBound {
                let count = min(chunk, images.upperBound - first)
                let t = count * tiles
                switch tile {
                case .two:
                    percept_winograd_input(input, first, count, height, width, Int32(cin), padding, v[worker], 0, t)
                    percept_winograd_output_gradient(dOutput, first, count, outHeight, outWidth, Int32(cout), m[worker], 0, t)
                case .four:
                    percept_winograd4_input(input, first, count, height, width, Int32(cin), padding, v[worker], 0, t)
                    percept_winograd4_output_gradient(dOutput, first, count, outHeight, outWidth, Int32(cout), m[worker], 0, t)
                }
                for xi in 0..<tile.planes {
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
            switch tile {
            case .two: percept_winograd_weight_gradient(total, Int32(cin), Int32(cout), dw.baseAddress!)
            case .four: percept_winograd4_weight_gradient(total, Int32(cin), Int32(cout), dw.baseAddress!)
            }
        }
    }

    /// The geometry of the input-gradient convolution of a 3×3 stride-1 layer: ∂Y (OH×OW×Cout)
    /// convolved with the rotated filter and padding 2 − p gives ∂X (H×W×Cin).
    static func winogradInputGradientGeometry(_ g: ConvGeometry) -> ConvGeometry {
        ConvGeometry(height: g.outHeight, width: g.outWidth, inChannels: g.outChannels, kernelHeight: 3, kernelWidth: 3,
                     stride: 1, padding: 2 - g.padding, outChannels: g.inChannels)
    }
}
