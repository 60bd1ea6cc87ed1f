import PerceptCore
import PerceptONNX

/// A transfer model exports as one graph: the backbone cut at its feature vector (its own
/// classifier dropped), the backbone's pixel normalisation in front, the head's standardisation
/// and classifier behind. The graph takes the backbone's crop (224² for EfficientNet-Lite0), and
/// `percept.resize` says how to get it: shorter side to the spec's size, then the centred crop.
extension TransferModel: ONNXExportable {
    public var onnxInput: (shape: [Int], resize: String)? {
        let spec = backbone.spec
        return ([spec.inputSize, spec.inputSize, 3], spec.resize.rawValue)
    }

    public func appendONNXGraph(to graph: inout ONNXGraphBuilder, images: String, inputShape: [Int],
                                options: ONNXExportOptions) throws -> String {
        let spec = backbone.spec
        guard let bytes = backbone.onnxBytes else {
            throw PerceptError.unsupported(nil, "the backbone '\(spec.name)' is built in, not an ONNX graph, so there is "
                + "nothing to export; train with an ONNX backbone (`percept backbone add`)")
        }
        let model = try ONNXModel(serializedBytes: bytes, path: "backbone '\(spec.name)'")
        guard let featureName = spec.featureNode ?? model.classifierInput?.name else {
            throw PerceptError.unsupported(nil, "the backbone '\(spec.name)' has no feature vector to cut at")
        }
        let features = try graph.appendBackbone(serializedBytes: bytes, path: "backbone '\(spec.name)'", upTo: featureName,
                                                images: images, pixelScale: spec.std.map { 1 / $0 },
                                                pixelShift: zip(spec.mean, spec.std).map { -$0 / $1 })
        // (x − μ)·s = x·s − μ·s, the head's standardisation.
        let scale = standardization.scale
        let shift = zip(standardization.mean, scale).map { -$0 * $1 }
        let (d, c) = (head.inputs, head.classes)
        switch head.kind {
        case .softmax:
            return try graph.addSoftmaxHead(features, weight: Array(head.parameters[0..<(c * d)]),
                                            bias: Array(head.parameters[(c * d)..<(c * d + c)]),
                                            featureScale: scale, featureShift: shift)
        case .mlp:
            let layers = head.layers
            var x = try graph.addFlatten(features, name: "head.flatten")
            x = try graph.addAffine(x, scale: scale, shift: shift, shape: [d], name: "head.standardize")
            for (index, layer) in layers.enumerated() {
                x = try graph.addFullyConnected(x, weight: Array(head.parameters[layer.weights]), inputs: index == 0 ? d : head.hidden,
                                                units: layer.outputs, transposed: true, bias: Array(head.parameters[layer.bias]),
                                                name: "head.layer\(index + 1)")
                if index < layers.count - 1 { x = try graph.addNode("Relu", inputs: [x], name: "head.relu\(index + 1)") }
            }
            return try graph.addSoftmax(x)
        }
    }
}
