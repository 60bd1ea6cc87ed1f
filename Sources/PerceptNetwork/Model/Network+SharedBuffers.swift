/// Memory a network's layers share instead of owning: activations must live from forward to
/// backward, but a gradient is dead as soon as the layer before has read it, convolution scratch
/// only while its layer runs, and a ReLU's input or a residual block's body output only until the
/// next layer has read it. Sharing all of these makes training memory the batch × the activations
/// backward needs (Benchmarks/RESULTS.md, "Peak memory (issue 14)").
extension Network {
    /// Whether a layer's backward pass leaves its own output alone (so the next layer may overwrite it).
    static func ignoresOwnOutputInBackward(_ layer: any Layer) -> Bool {
        layer is Conv2D || layer is BatchNorm || layer is Linear || layer is Residual
    }

    /// Lets every ReLU that follows such a layer work in place, and every residual block whose body
    /// ends in one add into the body's output. Only within a list: a branch's first layer shares
    /// its input with the other branch.
    static func planInPlace(_ layers: [any Layer]) {
        for (index, layer) in layers.enumerated() {
            if let activation = layer as? Activation, activation.function == .relu, index > 0 {
                activation.inPlace = ignoresOwnOutputInBackward(layers[index - 1])
            }
            if let residual = layer as? Residual {
                residual.addsInPlace = residual.body.last.map { ignoresOwnOutputInBackward($0) && !($0 is Residual) } ?? false
                planInPlace(residual.body)
                planInPlace(residual.shortcut)
            }
        }
    }

    /// Gives every convolution (also inside linear layers and residual blocks) one scratch.
    static func shareScratch(_ layers: [any Layer], _ scratch: ConvScratch) {
        for layer in layers {
            if let conv = layer as? Conv2D { conv.scratch = scratch }
            if let linear = layer as? Linear { linear.convolution.scratch = scratch }
            if let residual = layer as? Residual { shareScratch(residual.layers, scratch) }
        }
    }

    /// Lends each layer of `layers` an input-gradient buffer from `pool`, walking them as backward
    /// does (last to first). A layer's buffer must differ from the one holding its dOutput
    /// (`gradient`) and from every buffer in `busy` (gradients an enclosing residual block still
    /// needs); ping-ponging between two buffers serves a plain chain. Returns the buffer that ends
    /// up holding ∂loss/∂input of the first layer (nil: not one of the pool's).
    @discardableResult
    static func lendGradientBuffers(_ layers: [any Layer], gradient: FloatBuffer?, busy: [FloatBuffer],
                                    pool: inout [FloatBuffer]) -> FloatBuffer? {
        func free(excluding taken: [FloatBuffer?]) -> FloatBuffer {
            if let buffer = pool.first(where: { candidate in !taken.contains { $0 === candidate } }) { return buffer }
            pool.append(FloatBuffer())
            return pool[pool.count - 1]
        }
        var current = gradient
        for layer in layers.reversed() {
            if let residual = layer as? Residual {
                // dOutput feeds both branches, and the body's result waits for the shortcut's.
                let outer = busy + [current].compactMap { $0 }
                let body = lendGradientBuffers(residual.body, gradient: current, busy: outer, pool: &pool)
                let shortcut = lendGradientBuffers(residual.shortcut, gradient: current,
                                                   busy: outer + [body].compactMap { $0 }, pool: &pool)
                let buffer = free(excluding: busy + [body, shortcut])
                _ = residual.useInputGradientBuffer(buffer)
                current = buffer
                continue
            }
            let buffer = free(excluding: busy + [current])
            // A layer that passes dOutput through (flatten) leaves the gradient where it was.
            if layer.useInputGradientBuffer(buffer) { current = buffer }
        }
        return current
    }
}
