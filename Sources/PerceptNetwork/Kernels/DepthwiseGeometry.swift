/// The sizes of one depthwise convolution over NHWC activations: input H×W×C, one K×K filter per
/// channel moved by `stride`, and zero padding given side by side (top, left, bottom, right), so
/// TensorFlow's asymmetric "same" padding (more at the bottom and right when the stride is 2) fits.
/// Output OH×OW×C with OH = (top + H + bottom − K) / stride + 1.
public struct DepthwiseGeometry: Equatable, Sendable {
    public var height: Int, width: Int, channels: Int
    public var kernel: Int, stride: Int
    public var top: Int, left: Int, bottom: Int, right: Int

    public init(height: Int, width: Int, channels: Int, kernel: Int, stride: Int,
                padding: (top: Int, left: Int, bottom: Int, right: Int)) {
        self.height = height
        self.width = width
        self.channels = channels
        self.kernel = kernel
        self.stride = stride
        (top, left, bottom, right) = padding
    }

    /// The same zeros on every side.
    public init(height: Int, width: Int, channels: Int, kernel: Int, stride: Int, padding: Int) {
        self.init(height: height, width: width, channels: channels, kernel: kernel, stride: stride,
                  padding: (padding, padding, padding, padding))
    }

    /// TensorFlow's "same" padding: output ⌈H / stride⌉, the odd zero going to the bottom/right.
    public static func same(height: Int, width: Int, channels: Int, kernel: Int, stride: Int) -> DepthwiseGeometry {
        func split(_ size: Int) -> (Int, Int) {
            let total = max(0, ((size + stride - 1) / stride - 1) * stride + kernel - size)
            return (total / 2, total - total / 2)
        }
        let (top, bottom) = split(height), (left, right) = split(width)
        return DepthwiseGeometry(height: height, width: width, channels: channels, kernel: kernel, stride: stride,
                                 padding: (top, left, bottom, right))
    }

    public var outHeight: Int { (top + height + bottom - kernel) / stride + 1 }
    public var outWidth: Int { (left + width + right - kernel) / stride + 1 }
    public var inputCount: Int { height * width * channels }
    public var outputCount: Int { outHeight * outWidth * channels }
    /// K·K·C: one filter per channel, channels innermost.
    public var weightCount: Int { kernel * kernel * channels }
    /// Multiply-adds ×2 per item for the forward pass: 2·K²·C·OH·OW.
    public var forwardFlops: Int { 2 * kernel * kernel * outputCount }
}
