import PerceptNetwork

/// Copies between the runtime's storage (images NHWC) and ONNX's order (NCHW), and padding.
enum LayoutKernels {
    /// NHWC → NCHW for `batch` images of `shape`.
    static func toChannelsFirst(_ x: UnsafePointer<Float>, _ shape: FeatureShape, batch: Int, into y: UnsafeMutablePointer<Float>) {
        let (h, w, c) = (shape.height, shape.width, shape.channels), plane = h * w
        for n in 0..<batch {
            let source = x + n * shape.count, target = y + n * shape.count
            for p in 0..<plane { for ch in 0..<c { target[ch * plane + p] = source[p * c + ch] } }
        }
    }

    /// NCHW → NHWC for `batch` images of `shape`.
    static func toChannelsLast(_ x: UnsafePointer<Float>, _ shape: FeatureShape, batch: Int, into y: UnsafeMutablePointer<Float>) {
        let (h, w, c) = (shape.height, shape.width, shape.channels), plane = h * w
        for n in 0..<batch {
            let source = x + n * shape.count, target = y + n * shape.count
            for ch in 0..<c { for p in 0..<plane { target[p * c + ch] = source[ch * plane + p] } }
        }
    }

    /// Surrounds each NHWC image of `shape` with `value` (rows on top and bottom, columns left and right).
    static func pad(_ x: UnsafePointer<Float>, _ shape: FeatureShape, batch: Int, top: Int, left: Int, bottom: Int,
                    right: Int, value: Float, into y: UnsafeMutablePointer<Float>) {
        let (h, w, c) = (shape.height, shape.width, shape.channels)
        let (ph, pw) = (h + top + bottom, w + left + right)
        y.update(repeating: value, count: batch * ph * pw * c)
        for n in 0..<batch {
            for row in 0..<h {
                (y + ((n * ph + row + top) * pw + left) * c).update(from: x + (n * h + row) * w * c, count: w * c)
            }
        }
    }
}

/// Moves an image value between NHWC and ONNX's NCHW order (before a Flatten or Reshape that
/// depends on the order, or after one that makes an image).
final class LayoutStep: GraphStep, @unchecked Sendable {
    let nodeName: String
    let inputs: [Int]
    let output: Int
    let shape: FeatureShape
    /// True: NHWC → NCHW; false: NCHW → NHWC.
    let toChannelsFirst: Bool

    init(nodeName: String, input: Int, output: Int, shape: FeatureShape, toChannelsFirst: Bool) {
        self.nodeName = nodeName
        self.inputs = [input]
        self.output = output
        self.shape = shape
        self.toChannelsFirst = toChannelsFirst
    }

    func run(_ buffers: StepBuffers, batch: Int) {
        if toChannelsFirst {
            LayoutKernels.toChannelsFirst(buffers.inputs[0], shape, batch: batch, into: buffers.output)
        } else {
            LayoutKernels.toChannelsLast(buffers.inputs[0], shape, batch: batch, into: buffers.output)
        }
    }
}

/// A standalone constant `Pad` of an image's rows and columns (one before a convolution is fused into it).
final class PadStep: GraphStep, @unchecked Sendable {
    let nodeName: String
    let inputs: [Int]
    let output: Int
    let shape: FeatureShape
    let pads: (top: Int, left: Int, bottom: Int, right: Int)
    let value: Float

    init(nodeName: String, input: Int, output: Int, shape: FeatureShape, pads: (top: Int, left: Int, bottom: Int, right: Int),
         value: Float) {
        self.nodeName = nodeName
        self.inputs = [input]
        self.output = output
        self.shape = shape
        self.pads = pads
        self.value = value
    }

    func run(_ buffers: StepBuffers, batch: Int) {
        LayoutKernels.pad(buffers.inputs[0], shape, batch: batch, top: pads.top, left: pads.left, bottom: pads.bottom,
                          right: pads.right, value: value, into: buffers.output)
    }
}
