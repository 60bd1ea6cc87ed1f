import Foundation
import PerceptCore

/// A loaded ONNX graph compiled onto Percept's engine, ready to run on batches of images — what
/// onnxruntime calls an inference session.
///
/// Images go in NHWC (the engine's layout: item, row, column, channel), already normalised as the
/// graph expects; the graph's NCHW convention is handled inside. One output is computed per session:
/// the graph's own output, or any intermediate value (a backbone's feature vector), and only the
/// nodes it depends on run.
///
/// A batch is shared out over `threads` workers, each running its own micro-batches through the
/// whole graph with single-threaded kernels: no synchronisation between layers, and a micro-batch's
/// activations stay near the caches.
public final class ONNXSession: @unchecked Sendable {
    /// The model the session runs.
    public let model: ONNXModel
    /// The graph input fed with images.
    public let inputName: String
    /// Height, width and channels of one input image (from the graph's NCHW input shape).
    public let imageHeight: Int, imageWidth: Int, imageChannels: Int
    /// The value the session computes.
    public let outputName: String
    /// Its dimensions per item in ONNX's order (e.g. `[1280]`, or `[C, H, W]` for an image value,
    /// which `run` returns NHWC).
    public let outputDimensions: [Int]
    /// Floats per item of the output (1280 for EfficientNet-Lite0's features, 1000 for its logits).
    public let outputCount: Int
    /// Threads the session's kernels use.
    public var threads: Int
    /// Items one worker runs through the graph at once; nil chooses from the widest activations
    /// (about 32 MB of activations per worker).
    public var microBatch: Int?

    let plan: GraphPlan
    private var workspaces: [GraphWorkspace] = []
    private let lock = NSLock()

    /// Compiles `model` to compute `output` (nil: the graph's first output).
    ///
    /// - Throws: `PerceptError.unsupported` naming the file and node when the graph cannot run here
    ///   (an input that is not an image, an operator form no step or reference covers), and
    ///   `.invalidArgument` when `output` names no value of the graph.
    public init(model: ONNXModel, output: String? = nil, threads: Int = Parallel.defaultThreadCount) throws {
        let outputName = output ?? model.outputs[0].name
        var compiler = GraphCompiler(model: model)
        do {
            plan = try compiler.compile(output: outputName)
        } catch let error as PerceptError where error.path == nil {
            throw PerceptError(error.kind, path: model.path, error.reason)
        }
        self.model = model
        self.outputName = outputName
        inputName = model.inputs[0].name
        let inputDims = compiler.dims[plan.inputValue]
        (imageChannels, imageHeight, imageWidth) = (inputDims[0], inputDims[1], inputDims[2])
        outputDimensions = compiler.dims[plan.outputValue]
        outputCount = plan.valueCounts[plan.outputValue]
        self.threads = max(1, threads)
    }

    /// One step of the compiled graph and the time it took in `profile`.
    public struct StepTime: Sendable {
        /// The node the step came from (the first of those fused into it).
        public var node: String
        /// The step's kind, e.g. `pointwise`, `depthwise 3×3/2`, `dense 3×3/2`, `fallback Softmax`.
        public var kind: String
        public var seconds: Double
        public var flops: Int
    }

    /// Runs `batch` images on one worker, timing each step: where a graph's time goes.
    public func profile(images: [Float], batch: Int) throws -> [StepTime] {
        guard images.count == batch * imageCount, batch > 0 else {
            throw PerceptError.invalidArgument("\(model.path): profile needs \(batch) images of \(imageCount) floats")
        }
        let space = GraphWorkspace(plan: plan)
        space.stepSeconds = [Double](repeating: 0, count: plan.steps.count)
        var output = [Float](repeating: 0, count: batch * outputCount)
        GraphRunner.run(plan, spaces: [space], images: images, batch: batch, imageCount: imageCount,
                        microBatch: microBatch ?? batch, outputCount: outputCount, into: &output)
        return zip(plan.steps, space.stepSeconds ?? []).map {
            StepTime(node: $0.nodeName, kind: $0.kindDescription, seconds: $1, flops: $0.flopsPerItem * batch)
        }
    }

    /// Floating-point operations per image of the convolutions and matrix products the session runs.
    public var forwardFlops: Int { plan.steps.reduce(0) { $0 + $1.flopsPerItem } }

    /// Floats per input image.
    public var imageCount: Int { imageHeight * imageWidth * imageChannels }

    /// Runs `batch` images (batch × H × W × C floats, NHWC) through the graph and returns
    /// batch × `outputCount` floats. Values of rank 4 come back NHWC as well.
    ///
    /// - Throws: `PerceptError.invalidArgument` when `images` does not hold `batch` images of the graph's size.
    public func run(images: [Float], batch: Int) throws -> [Float] {
        guard batch >= 0, images.count == batch * imageCount else {
            throw PerceptError.invalidArgument("\(model.path): \(images.count) floats are not \(batch) images of "
                + "\(imageHeight)×\(imageWidth)×\(imageChannels)")
        }
        var output = [Float](repeating: 0, count: batch * outputCount)
        guard batch > 0 else { return output }
        let workers = min(threads, batch)
        let perMicroBatch = microBatch ?? max(1, (8 << 20) / max(1, plan.slotCounts.reduce(0, +)))
        // Each run takes its workspaces out of the pool and gives them back, so runs from several
        // threads at once (a server's predictions beside an evaluation) never share one.
        let spaces = lock.withLock { () -> [GraphWorkspace] in
            let taken = Array(workspaces.suffix(workers))
            workspaces.removeLast(taken.count)
            return taken + (taken.count..<workers).map { _ in GraphWorkspace(plan: plan) }
        }
        defer { lock.withLock { workspaces += spaces } }
        GraphRunner.run(plan, spaces: spaces, images: images, batch: batch, imageCount: imageCount,
                        microBatch: perMicroBatch, outputCount: outputCount,
                        blasThreads: workers == 1 ? threads : 1, into: &output)
        return output
    }
}
