import Foundation
import PerceptCore
import SwiftProtobuf

// A pretrained backbone inside an exported graph: how a transfer model exports as one graph
// (backbone + head). The backbone is cut at its feature vector — every node and initialiser the
// features do not need (its old classifier) is left out — and reads Percept's `images` input
// (0…255 RGB pixels) through the backbone's own normalisation.
//
// Usage, in a model's `appendONNXGraph` (a softmax head on EfficientNet-Lite0's 1,280 features):
//
//     let features = try graph.appendBackbone(contentsOf: path, upTo: "1280-d input of the final Gemm",
//                                             images: images, pixelScale: [1 / 128, …], pixelShift: [-127 / 128, …])
//     return try graph.addSoftmaxHead(features, weight: w, bias: b)   // w: classes×1280

extension ONNXGraphBuilder {
    /// Appends the backbone at `path` cut at its value `featureVector`, reading `images` normalised
    /// per channel as x·pixelScale + pixelShift, and returns the name the features have in this graph.
    ///
    /// - Throws: the backbone's load errors (naming the file); `.invalidArgument` when it has no value
    ///   named `featureVector`; `.unsupported` when its input is not one N×3×H×W image of this graph's
    ///   size, or it uses another opset than this graph (a graph has one).
    public mutating func appendBackbone(contentsOf path: String, upTo featureVector: String, images: String,
                                        pixelScale: [Float], pixelShift: [Float]) throws -> String {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw PerceptError.io(path, "cannot read the backbone: \(error.localizedDescription)")
        }
        return try appendBackbone(serializedBytes: data, path: path, upTo: featureVector, images: images,
                                  pixelScale: pixelScale, pixelShift: pixelShift)
    }

    /// The same from the backbone's bytes; `path` names it in errors.
    public mutating func appendBackbone(serializedBytes data: Data, path: String, upTo featureVector: String,
                                        images: String, pixelScale: [Float], pixelShift: [Float]) throws -> String {
        // Every check the importer makes (operators, shapes, opset, weights inside the file).
        let checked = try ONNXModel(serializedBytes: data, path: path)
        var options = BinaryDecodingOptions()
        options.discardUnknownFields = true
        var backbone = try Onnx_ModelProto(serializedBytes: data, options: options).graph
        guard checked.inputs.count == 1, let input = checked.inputs.first, input.shape.count == 4, input.shape[1] == 3 else {
            throw PerceptError.unsupported(path, "the backbone's input is not one N×3×H×W image tensor (it has "
                + checked.inputs.map(\.description).joined(separator: "; ") + ")")
        }
        let ours = graph.input.first { $0.name == images }.map { $0.type.tensorType.shape.dim.map(\.dimValue) }
        guard let ours, ours.count == 4, ours.dropFirst().map(Int.init) == input.shape.dropFirst().map({ $0 ?? 0 }) else {
            throw PerceptError.unsupported(path, "the backbone takes \(input.description), not this graph's '\(images)' input")
        }
        guard checked.opsetVersion == opsetVersion else {
            throw PerceptError.unsupported(path, "the backbone uses opset \(checked.opsetVersion), the export opset "
                + "\(opsetVersion); export with --opset \(checked.opsetVersion) (a graph has one opset)")
        }
        guard pixelScale.count == 3, pixelShift.count == 3 else {
            throw PerceptError.invalidArgument("a backbone's pixel normalisation needs 3 scales and 3 shifts, got "
                + "\(pixelScale.count) and \(pixelShift.count)")
        }
        guard backbone.node.contains(where: { $0.output.contains(featureVector) }) else {
            throw PerceptError.invalidArgument("the backbone \(path) has no value named '\(featureVector)' to cut at; "
                + "give the input of its final Gemm or MatMul (\(checked.classifierInput?.name ?? "none found"))")
        }
        Self.prune(&backbone, keeping: featureVector)
        let normalized = try addAffine(images, scale: pixelScale, shift: pixelShift, shape: [1, 3, 1, 1],
                                       name: "backbone.normalize")
        // The backbone's names, made unique in this graph; its input becomes the normalised images.
        var renamed = [input.name: normalized]
        for var tensor in backbone.initializer {
            let original = tensor.name
            tensor.name = uniqueName(original)
            renamed[original] = tensor.name
            graph.initializer.append(tensor)
        }
        for var node in backbone.node {
            node.name = uniqueNodeName(node.name.isEmpty ? node.opType.lowercased() : node.name)
            node.input = node.input.map { $0.isEmpty ? $0 : renamed[$0] ?? $0 }
            node.output = node.output.map { output in
                let name = uniqueName(output)
                renamed[output] = name
                return name
            }
            graph.node.append(node)
        }
        return renamed[featureVector] ?? featureVector
    }

    /// Keeps only the nodes `value` depends on, and the initialisers they read.
    static func prune(_ graph: inout Onnx_GraphProto, keeping value: String) {
        var needed: Set<String> = [value]
        var kept: [Onnx_NodeProto] = []
        for node in graph.node.reversed() where node.output.contains(where: needed.contains) {
            kept.append(node)
            needed.formUnion(node.input.filter { !$0.isEmpty })
        }
        graph.node = kept.reversed()
        graph.initializer = graph.initializer.filter { needed.contains($0.name) }
    }

    /// A softmax head on N×D features (N×D×1×1 too: they are flattened first): optional per-feature
    /// standardisation x·featureScale + featureShift, `Gemm` with `weight` classes×D (row c is class
    /// c's weights) and `bias`, then `Softmax`. Returns the probabilities' name.
    public mutating func addSoftmaxHead(_ features: String, weight: [Float], bias: [Float], featureScale: [Float]? = nil,
                                        featureShift: [Float]? = nil) throws -> String {
        let c = bias.count
        guard c >= 2, weight.count % c == 0 else {
            throw PerceptError.invalidArgument("a head for \(c) classes needs classes×D weights, got \(weight.count)")
        }
        let d = weight.count / c
        var rows = try addFlatten(features, name: "head.flatten")
        if let featureScale, let featureShift {
            rows = try addAffine(rows, scale: featureScale, shift: featureShift, shape: [d], name: "head.standardize")
        }
        let logits = try addFullyConnected(rows, weight: weight, inputs: d, units: c, transposed: true, bias: bias, name: "head")
        return try addSoftmax(logits)
    }
}
