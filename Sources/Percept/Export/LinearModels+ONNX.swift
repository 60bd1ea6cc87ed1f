import PerceptCore
import PerceptModels
import PerceptONNX
import PerceptPreprocessing

// The classic families as ONNX: pixel features x' = (p/255 − offset)·scale as Mul and Add, then
// Gemm (and ReLU and Gemm for the two-layer net), then Softmax — `percept predict` prints the
// softmax of these scores for both the SVM and softmax losses, so the output is the same numbers.
// Shape letters: N images, D = H·W·3 features, C classes, H hidden units.

extension InputPipeline {
    /// N×D preprocessed pixel features in the graph's CHW order, and where each sits in Percept's
    /// HWC order (to gather the model's weights in the same order).
    func appendONNXFeatures(to graph: inout ONNXGraphBuilder, images: String) throws -> (name: String, hwcPositions: [Int]) {
        guard features.isPixels else {
            throw PerceptError.unsupported(nil, "export supports models on pixel features; this one uses "
                + "\(features.name) features (HOG and hue histograms have no ONNX form): train it with --features pixels")
        }
        let positions = ONNXGraphBuilder.hwcPositionsOfCHWFeatures(height: inputShape[0], width: inputShape[1],
                                                                   channels: inputShape[2])
        let rows = try graph.addFlatten(images, name: "pixels.flatten")
        // (p/255 − offset)·scale = p·(scale/255) + (−offset·scale).
        let name = try graph.addAffine(rows, scale: positions.map { scale[$0] / 255 },
                                       shift: positions.map { -offset[$0] * scale[$0] }, shape: [positions.count],
                                       name: "pixels.\(preprocessing.rawValue)")
        return (name, positions)
    }
}

/// The columns of a row-major rows×D matrix gathered in `positions` order.
func gatheringColumns(_ matrix: Tensor, _ positions: [Int]) -> [Float] {
    let d = matrix.columns
    var result = [Float](repeating: 0, count: matrix.count)
    for row in 0..<matrix.rows {
        for (column, source) in positions.enumerated() { result[row * d + column] = matrix.scalars[row * d + source] }
    }
    return result
}

extension LinearClassifier: ONNXExportable {
    public func appendONNXGraph(to graph: inout ONNXGraphBuilder, images: String, inputShape: [Int],
                                options: ONNXExportOptions) throws -> String {
        guard let pipeline else { throw PerceptError.invalidArgument("fit the LinearClassifier before exporting it") }
        let (features, positions) = try pipeline.appendONNXFeatures(to: &graph, images: images)
        let scores = try graph.addFullyConnected(features, weight: gatheringColumns(weights, positions), inputs: positions.count,
                                                 units: classNames.count, transposed: true, bias: bias, name: "scores")
        return try graph.addSoftmax(scores)
    }
}

extension TwoLayerNet: ONNXExportable {
    public func appendONNXGraph(to graph: inout ONNXGraphBuilder, images: String, inputShape: [Int],
                                options: ONNXExportOptions) throws -> String {
        guard let pipeline else { throw PerceptError.invalidArgument("fit the TwoLayerNet before exporting it") }
        let (features, positions) = try pipeline.appendONNXFeatures(to: &graph, images: images)
        let hidden = try graph.addFullyConnected(features, weight: gatheringColumns(weights1, positions),
                                                 inputs: positions.count, units: weights1.rows, transposed: true,
                                                 bias: bias1, name: "hidden")
        let activated = try graph.addNode("Relu", inputs: [hidden], name: "hidden.relu")
        let scores = try graph.addFullyConnected(activated, weight: weights2.scalars, inputs: weights2.columns,
                                                 units: classNames.count, transposed: true, bias: bias2, name: "scores")
        return try graph.addSoftmax(scores)
    }
}
