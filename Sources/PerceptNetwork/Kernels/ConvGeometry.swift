/// The sizes of one 2-D convolution (or pooling window) over NHWC activations:
/// input H×W×Cin, a K_H×K_W kernel moved by `stride`, `padding` zeros on every side, output
/// OH×OW×Cout with OH = (H + 2·padding − K_H) / stride + 1.
public struct ConvGeometry: Equatable, Sendable {
    public var height: Int, width: Int, inChannels: Int
    public var kernelHeight: Int, kernelWidth: Int
    public var stride: Int, padding: Int
    public var outChannels: Int

    public init(height: Int, width: Int, inChannels: Int, kernelHeight: Int, kernelWidth: Int,
                stride: Int, padding: Int, outChannels: Int) {
        self.height = height
        self.width = width
        self.inChannels = inChannels
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
        self.outChannels = outChannels
    }

    public var outHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    /// One row of the im2col matrix: K_H·K_W·Cin.
    public var patchLength: Int { kernelHeight * kernelWidth * inChannels }
    public var inputCount: Int { height * width * inChannels }
    public var outputCount: Int { outHeight * outWidth * outChannels }
    /// A 1×1 kernel with stride 1 and no padding needs no im2col: the input is the matrix.
    public var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }
    /// Multiply-adds ×2 per item for the forward pass.
    public var forwardFlops: Int { 2 * outHeight * outWidth * outChannels * patchLength }
}
