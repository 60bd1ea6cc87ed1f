import PerceptCore
import PerceptNetwork
import PerceptONNX
import PerceptPreprocessing

// A CNN as ONNX: the input normalisation x = p·(1/(255·std)) + (−mean/std) per channel (the same two
// operations `BatchAssembly` does), the layers (`ONNXNetworkWriter`), softmax — and the test-time
// views `percept predict` averages, so the export gives the same probabilities.
//
// A view (mirror image, one-pixel shift with reflected edges) picks for every output row y a source
// row sy(y) and for every column x a source column sx(x): a selection matrix on each side, so
// X' = R·X·S with R[y, sy(y)] = 1 (H×H) and S[sx(x), x] = 1 (W×W), two `MatMul`s that multiply by
// exactly 0 and 1. Each view runs the network again on the same initialisers; the probabilities
// are summed with the views' weights, as `Inference.probabilities` does.

extension ConvNetClassifier: ONNXExportable {
    public func appendONNXGraph(to graph: inout ONNXGraphBuilder, images: String, inputShape: [Int],
                                options: ONNXExportOptions) throws -> String {
        let network = try makeNetwork()
        let normalization = settings.normalization
        let c = self.inputShape.channels
        guard normalization.mean.count == c, normalization.std.count == c else {
            throw PerceptError.invalidData("the model's normalisation has \(normalization.mean.count) channels, its images \(c)")
        }
        let normalized = try graph.addAffine(images, scale: (0..<c).map { 1 / (255 * normalization.std[$0]) },
                                             shift: (0..<c).map { -normalization.mean[$0] / normalization.std[$0] },
                                             shape: [1, c, 1, 1], name: "normalize")
        var writer = ONNXNetworkWriter()
        var average: String?
        let views = (options.testTimeAugmentation ?? testTimeAugmentation).views
        for (index, (transform, weight)) in views.enumerated() {
            let view = try appendView(transform, of: normalized, index: index, to: &graph)
            let logits = try writer.append(network.layers, input: view, inputShape: self.inputShape, to: &graph)
            var probabilities = try graph.addSoftmax(logits, name: views.count == 1 ? "softmax" : "view\(index).softmax")
            guard views.count > 1 else { return probabilities }
            probabilities = try graph.addScale(probabilities, by: weight, name: "view\(index).weight")
            average = try average.map { try graph.addNode("Add", inputs: [$0, probabilities], name: "views.sum\(index)") }
                ?? probabilities
        }
        guard let average else { throw PerceptError.invalidData("the model averages no test-time views") }
        return average
    }

    /// The image as `transform` shows it: row and column selections (nothing for the identity).
    private func appendView(_ transform: ImageTransform, of x: String, index: Int,
                            to graph: inout ONNXGraphBuilder) throws -> String {
        let (h, w) = (inputShape.height, inputShape.width)
        var view = x
        if transform.dy != 0 {
            var rows = [Float](repeating: 0, count: h * h)
            for y in 0..<h { rows[y * h + BatchAssembly.reflect(y + transform.dy, h)] = 1 }
            let selection = graph.addInitializer("view\(index).rows", shape: [h, h], values: rows)
            view = try graph.addNode("MatMul", inputs: [selection, view], name: "view\(index).rows")
        }
        if transform.dx != 0 || transform.flip {
            var columns = [Float](repeating: 0, count: w * w)
            for x in 0..<w {
                let shifted = BatchAssembly.reflect(x + transform.dx, w)
                columns[(transform.flip ? w - 1 - shifted : shifted) * w + x] = 1
            }
            let selection = graph.addInitializer("view\(index).columns", shape: [w, w], values: columns)
            view = try graph.addNode("MatMul", inputs: [view, selection], name: "view\(index).columns")
        }
        return view
    }
}
