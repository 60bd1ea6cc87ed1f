import PerceptCore
import PerceptNetwork

/// A node the fast steps do not cover, run by its reference operator: inputs turned to NCHW
/// tensors, the result turned back. The compiler has run it once on one item, so it cannot fail
/// for a reason of shapes; it is correct and slow, and the fast path covers what backbones spend
/// their time in.
final class FallbackStep: GraphStep, @unchecked Sendable {
    let nodeName: String
    let inputs: [Int]
    let output: Int
    let node: ONNXNode
    /// Per node input: the index into `inputs` of its value, or nil for a constant in `constants`.
    let sources: [Int?]
    let constants: ReferenceOperators.Inputs
    let inputDims: [[Int]]
    let outputDims: [Int]
    let opset: Int

    init(node: ONNXNode, inputs: [Int], sources: [Int?], constants: ReferenceOperators.Inputs, inputDims: [[Int]],
         outputDims: [Int], output: Int, opset: Int) {
        self.nodeName = node.name
        self.node = node
        self.inputs = inputs
        self.sources = sources
        self.constants = constants
        self.inputDims = inputDims
        self.outputDims = outputDims
        self.output = output
        self.opset = opset
    }

    var kindDescription: String { "fallback \(node.operatorType)" }

    func run(_ buffers: StepBuffers, batch: Int) {
        var feed = constants
        for (position, source) in sources.enumerated() {
            guard let source else { continue }
            let dims = inputDims[source], count = dims.reduce(1, *)
            var scalars = [Float](repeating: 0, count: batch * count)
            scalars.withUnsafeMutableBufferPointer { target in
                if dims.count == 3 {
                    LayoutKernels.toChannelsFirst(buffers.inputs[source], FeatureShape(height: dims[1], width: dims[2], channels: dims[0]),
                                                  batch: batch, into: target.baseAddress!)
                } else {
                    target.baseAddress!.update(from: buffers.inputs[source], count: batch * count)
                }
            }
            feed.tensors[position] = Tensor(shape: [batch] + dims, scalars: scalars)
        }
        let count = outputDims.reduce(1, *)
        guard let result = try? ReferenceOperators.evaluate(node, feed, opset: opset), result.count == batch * count else {
            buffers.output.update(repeating: .nan, count: batch * count)
            return
        }
        result.scalars.withUnsafeBufferPointer { source in
            if outputDims.count == 3 {
                LayoutKernels.toChannelsLast(source.baseAddress!, FeatureShape(height: outputDims[1], width: outputDims[2],
                                                                               channels: outputDims[0]),
                                             batch: batch, into: buffers.output)
            } else {
                buffers.output.update(from: source.baseAddress!, count: batch * count)
            }
        }
    }
}
