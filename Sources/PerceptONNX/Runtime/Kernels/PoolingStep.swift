import PerceptNetwork

/// `MaxPool` or `AveragePool` over NHWC images.
final class PoolingStep: GraphStep, @unchecked Sendable {
    let nodeName: String
    let inputs: [Int]
    let output: Int
    let shape: FeatureShape
    let windowY: ReferenceOperators.Window, windowX: ReferenceOperators.Window
    let outHeight: Int, outWidth: Int
    let isMax: Bool
    /// Average pooling: divide by the window's positions inside the padded image, not only the real ones.
    let countsPadding: Bool

    init(nodeName: String, input: Int, output: Int, shape: FeatureShape, windowY: ReferenceOperators.Window,
         windowX: ReferenceOperators.Window, outHeight: Int, outWidth: Int, isMax: Bool, countsPadding: Bool) {
        self.nodeName = nodeName
        self.inputs = [input]
        self.output = output
        self.shape = shape
        self.windowY = windowY
        self.windowX = windowX
        self.outHeight = outHeight
        self.outWidth = outWidth
        self.isMax = isMax
        self.countsPadding = countsPadding
    }

    func run(_ buffers: StepBuffers, batch: Int) {
        let (h, w, c) = (shape.height, shape.width, shape.channels)
        let (wy, wx) = (windowY, windowX)
        for n in 0..<batch {
            let x = buffers.inputs[0] + n * shape.count
            for oy in 0..<outHeight {
                for ox in 0..<outWidth {
                    let y = buffers.output + ((n * outHeight + oy) * outWidth + ox) * c
                    y.update(repeating: isMax ? -.infinity : 0, count: c)
                    var real = 0, padded = 0
                    for ky in 0..<wy.kernel {
                        let iy = oy * wy.stride - wy.before + ky * wy.dilation
                        for kx in 0..<wx.kernel {
                            let ix = ox * wx.stride - wx.before + kx * wx.dilation
                            if iy >= -wy.before, iy < h + wy.after, ix >= -wx.before, ix < w + wx.after { padded += 1 }
                            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                            real += 1
                            let source = x + (iy * w + ix) * c
                            if isMax {
                                for ch in 0..<c { y[ch] = max(y[ch], source[ch]) }
                            } else {
                                for ch in 0..<c { y[ch] += source[ch] }
                            }
                        }
                    }
                    if !isMax {
                        let scale = 1 / Float(max(1, countsPadding ? padded : real))
                        for ch in 0..<c { y[ch] *= scale }
                    }
                }
            }
        }
    }
}
