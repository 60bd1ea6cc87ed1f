// The patch statistics behind airbench's whitening stem (Whitening.swift): sums of the outer
// products of every valid K×K×C patch of a batch, and their plain twin on arrays.

public enum WhiteningKernels {
    /// Adds p·pᵀ (the upper triangle, i ≤ j, of D×D with D = K·K·C) of every patch that fits without
    /// padding in the first `count` images (N×H×W×C) of `images` to `covariance`; returns how many patches.
    public static func accumulatePatchProducts(_ g: ConvGeometry, images: FloatBuffer, count: Int,
                                               into covariance: inout [Double]) -> Int {
        let d = g.patchLength
        precondition(covariance.count == d * d && count * g.inputCount <= images.capacity, "accumulatePatchProducts: sizes")
        var patch = [Float](repeating: 0, count: d)
        var patches = 0
        let x = images.pointer
        for image in 0..<count {
            let base = x + image * g.inputCount
            for y in 0...(g.height - g.kernelHeight) {
                for xx in 0...(g.width - g.kernelWidth) {
                    var k = 0
                    for ky in 0..<g.kernelHeight {
                        let row = base + ((y + ky) * g.width + xx) * g.inChannels
                        for j in 0..<(g.kernelWidth * g.inChannels) { patch[k] = row[j]; k += 1 }
                    }
                    for i in 0..<d {
                        let pi = Double(patch[i])
                        for j in i..<d { covariance[i * d + j] += pi * Double(patch[j]) }
                    }
                    patches += 1
                }
            }
        }
        return patches
    }

    /// The twin: each patch gathered by its (row, column, channel) index, the same sums in the same order.
    public static func referenceAccumulatePatchProducts(_ g: ConvGeometry, images: [Float], count: Int,
                                                        into covariance: inout [Double]) -> Int {
        let d = g.patchLength
        var patches = 0
        for image in 0..<count {
            for y in 0...(g.height - g.kernelHeight) {
                for x in 0...(g.width - g.kernelWidth) {
                    var patch: [Double] = []
                    for ky in 0..<g.kernelHeight {
                        for kx in 0..<g.kernelWidth {
                            for c in 0..<g.inChannels {
                                patch.append(Double(images[((image * g.height + y + ky) * g.width + x + kx) * g.inChannels + c]))
                            }
                        }
                    }
                    for i in 0..<d {
                        for j in i..<d { covariance[i * d + j] += patch[i] * patch[j] }
                    }
                    patches += 1
                }
            }
        }
        return patches
    }
}
