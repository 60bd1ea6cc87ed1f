import Foundation
import PerceptCore
import SwiftProtobuf

/// A pretrained backbone's graph cut at its feature vector, ready for a new classifier head: how a
/// transfer model exports as one graph (backbone + head). The backbone's old classifier — every node
/// and initialiser the feature vector does not need — is pruned, and its input becomes Percept's
/// `images` input (0…255 RGB pixels) through the backbone's own normalisation.
///
/// Usage (a softmax head on EfficientNet-Lite0's 1,280 features):
/// ```swift
/// let features = try ONNXModel.load(path).classifierInput   // nil: no final Gemm/MatMul
/// var graph = try ONNXTransferGraph.backbone(contentsOf: path, upTo: features.name,
///                                           pixelScale: scale, pixelShift: shift)
/// try graph.addSoftmaxHead(weight: w, bias: b)              // w: classes×1280
/// graph.builder.setMetadata("percept.labels", labelsJSON)
/// try graph.builder.write(to: "model.onnx")
/// ```
public struct ONNXTransferGraph {
    /// The graph so far: the trimmed backbone reading `images`; add the head and outputs to it.
    public var builder: ONNXGraphBuilder
    /// The value the head reads (the backbone's feature vector), N×D.
    public let featureVector: String
    /// The graph input: N×3×H×W pixels 0…255.
    public let imageShape: [Int?]

    /// Reads the backbone at `path` and cuts it at `featureVector`.
    ///
    /// - Throws: the backbone's load errors (naming the file), `.invalidArgument` when it has no value
    ///   named `featureVector`, `.unsupported` when its input is not one N×3×H×W image tensor.
    public static func backbone(contentsOf path: String, upTo featureVector: String, pixelScale: [Float],
                                pixelShift: [Float]) throws -> ONNXTransferGraph {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw PerceptError.io(path, "cannot read the backbone: \(error.localizedDescription)")
        }
        return try backbone(serializedBytes: data, path: path, upTo: featureVector, pixelScale: pixelScale,
                            pixelShift: pixelShift)
    }

    /// The same from the backbone's bytes; `path` names it in errors.
    public static func backbone(serializedBytes data: Data, path: String, upTo featureVector: String,
                                pixelScale: [Float], pixelShift: [Float]) throws -> ONNXTransferGraph {
        // Every check the importer makes (operators, shapes, opset, weights inside the file).
        let checked = try ONNXModel(serializedBytes: data, path: path)
        var options = BinaryDecodingOptions()
        options.discardUnknownFields = true
        let proto = try Onnx_ModelProto(serializedBytes: data, options: options)
        return try ONNXTransferGraph(backbone: proto, checked: checked, upTo: featureVector, pixelScale: pixelScale,
                                     pixelShift: pixelShift)
    }

    /// Cuts `backbone` (already checked as `checked`) at `featureVector`.
    init(backbone: Onnx_ModelProto, checked: ONNXModel, upTo featureVector: String, pixelScale: [Float],
         pixelShift: [Float]) throws {
        let path = checked.path
        guard checked.inputs.count == 1, let image = checked.inputs.first, image.shape.count == 4, image.shape[1] == 3 else {
            throw PerceptError.unsupported(path, "the backbone's input is not one N×3×H×W image tensor (it has "
                + checked.inputs.map(\.description).joined(separator: "; ") + ")")
        }
        guard pixelScale.count == 3, pixelShift.count == 3 else {
            throw PerceptError.invalidArgument("a backbone's pixel normalisation needs 3 scales and 3 shifts, got "
                + "\(pixelScale.count) and \(pixelShift.count)")
        }
        var graph = backbone.graph
        guard graph.node.contains(where: { $0.output.contains(featureVector) }) else {
            throw PerceptError.invalidArgument("the backbone \(path) has no value named '\(featureVector)' to cut at; "
                + "give the input of its final Gemm or MatMul (\(checked.classifierInput?.name ?? "none found"))")
        }
        Self.prune(&graph, keeping: featureVector)
        graph.input = graph.input.filter { $0.name == image.name }
        graph.output = []
        let imageName = image.name
        var builder = ONNXGraphBuilder(continuing: backbone, opsetVersion: checked.opsetVersion)
        builder.graph = graph
        // Percept's input: 0…255 pixels named `images`, normalised as the backbone expects.
        let shape = [nil] + image.shape.dropFirst()
        builder.graph.input = []
        let normalized = builder.uniqueName("images.normalized")
        for index in builder.graph.node.indices {
            builder.graph.node[index].input = builder.graph.node[index].input.map { $0 == imageName ? normalized : $0 }
        }
        let inputName = "images"
        if imageName != inputName,
           graph.node.contains(where: { $0.output.contains(inputName) }) || graph.initializer.contains(where: { $0.name == inputName }) {
            throw PerceptError.unsupported(path, "the backbone already has a value named 'images', Percept's input name")
        }
        builder.addInput(inputName, shape: shape)
        let before = builder.graph.node.count
        _ = try builder.addAffine(inputName, scale: pixelScale, shift: pixelShift, shape: [1, 3, 1, 1],
                                            name: "images.normalize")
        // The affine's last node writes the name the backbone reads; both go first (topological order).
        builder.graph.node[builder.graph.node.count - 1].output = [normalized]
        let added = Array(builder.graph.node[before...])
        builder.graph.node.removeSubrange(before...)
        builder.graph.node.insert(contentsOf: added, at: 0)
        self.builder = builder
        self.featureVector = featureVector
        imageShape = shape
    }

    /// Keeps only the nodes `value` depends on, and the initialisers and value_info they use.
    static func prune(_ graph: inout Onnx_GraphProto, keeping value: String) {
        var needed: Set<String> = [value]
        var kept: [Onnx_NodeProto] = []
        for node in graph.node.reversed() where node.output.contains(where: needed.contains) {
            kept.append(node)
            needed.formUnion(node.input.filter { !$0.isEmpty })
        }
        graph.node = kept.reversed()
        graph.initializer = graph.initializer.filter { needed.contains($0.name) }
        graph.valueInfo = graph.valueInfo.filter { needed.contains($0.name) }
    }

    /// A softmax head on the feature vector: optional per-feature standardisation (x·scale + shift),
    /// `Gemm` with `weight` classes×D (row c is class c's weights) and `bias`, `Softmax`, and the
    /// graph output `probabilities` (N×classes).
    public mutating func addSoftmaxHead(weight: [Float], bias: [Float], featureScale: [Float]? = nil,
                                        featureShift: [Float]? = nil) throws {
        let c = bias.count
        guard c >= 2, weight.count % c == 0 else {
            throw PerceptError.invalidArgument("a head for \(c) classes needs classes×D weights, got \(weight.count)")
        }
        let d = weight.count / c
        var features = featureVector
        // Backbones often end their features N×D×1×1 (a global pool); Gemm needs N×D rows.
        features = try builder.addFlatten(features, name: "head.flatten")
        if let featureScale, let featureShift {
            features = try builder.addAffine(features, scale: featureScale, shift: featureShift, shape: [d],
                                             name: "head.standardize")
        }
        let logits = try builder.addFullyConnected(features, weight: weight, inputs: d, units: c, transposed: true,
                                                   bias: bias, name: "head")
        try builder.addOutput(try builder.addSoftmax(logits), as: "probabilities", shape: [nil, c])
    }
}
