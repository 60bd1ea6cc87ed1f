import PerceptCore

/// A loaded ONNX graph compiled onto Percept's engine, ready to run on batches of images — what
/// onnxruntime calls an inference session.
///
/// Images go in NHWC (the engine's layout: item, row, column, channel), already normalised as the
/// graph expects; the graph's NCHW convention is handled inside. One output is computed per session:
/// the graph's own output, or any intermediate value (a backbone's feature vector).
public final class ONNXSession: @unchecked Sendable {
    /// The model the session runs.
    public let model: ONNXModel
    /// The graph input fed with images.
    public let inputName: String
    /// Height, width and channels of one input image (from the graph's NCHW input shape).
    public let imageHeight: Int, imageWidth: Int, imageChannels: Int
    /// The value the session computes.
    public let outputName: String
    /// Floats per item of the output (1280 for EfficientNet-Lite0's features, 1000 for its logits).
    public let outputCount: Int
    /// Threads the session's kernels use.
    public var threads: Int

    /// Compiles `model` to compute `output` (nil: the graph's first output).
    ///
    /// - Throws: `PerceptError.unsupported` naming the node when the graph cannot run here (an input
    ///   that is not an image, an operator with attributes the engine does not cover), and
    ///   `.invalidArgument` when `output` names no value of the graph.
    public init(model: ONNXModel, output: String? = nil, threads: Int = Parallel.defaultThreadCount) throws {
        throw PerceptError.unsupported(model.path, "ONNXSession: not built yet")
    }

    /// Runs `batch` images (batch × H × W × C floats, NHWC) through the graph and returns
    /// batch × `outputCount` floats. Values of rank 4 come back NHWC as well.
    public func run(images: [Float], batch: Int) throws -> [Float] {
        throw PerceptError.unsupported(model.path, "ONNXSession: not built yet")
    }
}
