/// Scratch memory for convolutions: each worker's im2col matrix and partial weight gradient, and
/// Winograd's transformed filters and tiles.
///
/// The layers of a network run one at a time, so `Network` gives all its convolutions one shared
/// scratch: memory for the largest layer's needs, not the sum over layers (ResNet-20 at 64×64 kept
/// ≈ 30 MB per convolution before, ≈ 600 MB in all). Buffers only grow; their pointer lists are
/// rebuilt only when a buffer moved, so a steady training step allocates nothing.
public final class ConvScratch {
    private var cols: [FloatBuffer] = [], partials: [FloatBuffer] = []
    private var colPointers: [UnsafeMutablePointer<Float>] = [], partialPointers: [UnsafeMutablePointer<Float>] = []
    /// Winograd's transformed filters (planes × Cin × Cout).
    let transformed = FloatBuffer()
    private var winogradV: [FloatBuffer] = [], winogradM: [FloatBuffer] = [], winogradW: [FloatBuffer] = []

    public init() {}

    /// Each worker's im2col matrix, and a partial dW for every worker after the first.
    struct Im2col {
        var cols: [UnsafeMutablePointer<Float>]
        var partials: [UnsafeMutablePointer<Float>]
    }

    /// Each worker's transformed-input tiles V and products M.
    struct Tiles {
        var v: [UnsafeMutablePointer<Float>]
        var m: [UnsafeMutablePointer<Float>]
    }

    /// `workers` im2col matrices of `colCount` floats and `workers − 1` partial dW of `partialCount`.
    func im2col(workers: Int, colCount: Int, partialCount: Int) -> Im2col {
        while cols.count < workers { cols.append(FloatBuffer()) }
        while partials.count < workers - 1 { partials.append(FloatBuffer()) }
        for buffer in cols[0..<workers] { buffer.reserve(colCount) }
        for buffer in partials[0..<(workers - 1)] { buffer.reserve(partialCount) }
        if colPointers.count != workers || zip(colPointers, cols).contains(where: { $0 != $1.pointer })
            || zip(partialPointers, partials).contains(where: { $0 != $1.pointer }) || partialPointers.count != workers - 1 {
            colPointers = cols[0..<workers].map(\.pointer)
            partialPointers = partials[0..<(workers - 1)].map(\.pointer)
        }
        return Im2col(cols: colPointers, partials: partialPointers)
    }

    /// Each of `workers` gets a transformed-input tile buffer V and a product buffer M.
    func winogradTiles(workers: Int, vCount: Int, mCount: Int) -> Tiles {
        while winogradV.count < workers { winogradV.append(FloatBuffer()); winogradM.append(FloatBuffer()) }
        for w in 0..<workers {
            winogradV[w].reserve(vCount)
            winogradM[w].reserve(mCount)
        }
        return Tiles(v: winogradV[0..<workers].map(\.pointer), m: winogradM[0..<workers].map(\.pointer))
    }

    /// Each of `workers` gets a transformed weight-gradient buffer of `count` floats.
    func winogradWeightGradients(workers: Int, count: Int) -> [UnsafeMutablePointer<Float>] {
        while winogradW.count < workers { winogradW.append(FloatBuffer()) }
        for buffer in winogradW[0..<workers] { buffer.reserve(count) }
        return winogradW[0..<workers].map(\.pointer)
    }
}
