import Foundation
import PerceptCore
import PerceptData
import PerceptONNX

/// A pretrained network ready to embed images: its spec (preprocessing, checksum) and the
/// extractor that runs it, plus the ONNX file's bytes so a model file can carry them.
public struct Backbone: Sendable {
    public let spec: BackboneSpec
    public let extractor: any FeatureExtractor
    /// The ONNX file as read (nil for built-in backbones).
    public let onnxBytes: Data?
    /// Images per run of the graph: 32 keeps a 224² batch near 20 MB of input.
    static let batchSize = 32

    public init(spec: BackboneSpec, extractor: any FeatureExtractor, onnxBytes: Data? = nil) {
        self.spec = spec
        self.extractor = extractor
        self.onnxBytes = onnxBytes
    }

    /// The built-in random-features baseline (`--backbone random-features`): 32×32 squashed input.
    public static func randomFeatures(seed: UInt64 = 0) -> Backbone {
        let spec = BackboneSpec(name: "random-features", source: .randomFeatures, inputSize: 32, resize: .squash,
                                mean: [127.5, 127.5, 127.5], std: [64, 64, 64], seed: seed)
        return Backbone(spec: spec, extractor: RandomFeatures(inputSize: 32, seed: seed))
    }

    /// A backbone from ONNX bytes already read (a registered file, or the copy inside a model file),
    /// checked against `spec.sha256` when it records one.
    ///
    /// - Parameter origin: the file the bytes came from; nil for a copy inside a model file (whose
    ///   loader names the model file in the error).
    public static func onnx(_ bytes: Data, spec: BackboneSpec, origin: String?, threads: Int? = nil) throws -> Backbone {
        var spec = spec
        let digest = Checksum.sha256(bytes)
        if spec.sha256.isEmpty { spec.sha256 = digest }
        guard digest == spec.sha256 else {
            throw PerceptError.corrupt(origin, "the backbone '\(spec.name)'\(origin == nil ? " inside the model file" : "") is "
                + "damaged: its SHA-256 is \(digest.prefix(16))…, recorded \(spec.sha256.prefix(16))…; "
                + (origin == nil ? "train the model again" : "add the backbone again with `percept backbone add`"))
        }
        let model = try ONNXModel(serializedBytes: bytes, path: origin ?? "the backbone '\(spec.name)' inside the model file")
        try ImageGraph.check(model)
        return Backbone(spec: spec, extractor: try ONNXFeatureExtractor(model: model, spec: spec, threads: threads),
                        onnxBytes: bytes)
    }

    /// N × D features of every image of `dataset`, computed batch by batch.
    public func features(of dataset: Dataset, threads: Int? = nil,
                         progress: (String) throws -> Void = { _ in }) throws -> Tensor {
        let d = extractor.featureCount
        var features = [Float]()
        features.reserveCapacity(dataset.count * d)
        var start = 0
        while start < dataset.count {
            let end = min(dataset.count, start + Self.batchSize)
            let input = try spec.inputs(dataset, range: start..<end, threads: threads)
            let output = try extractor.features(images: input, batch: end - start)
            guard output.count == (end - start) * d else {
                throw PerceptError.invalidData("backbone '\(spec.name)' gave \(output.count) floats for \(end - start) images "
                    + "of \(d) features")
            }
            features += output
            start = end
            try progress("\(spec.name) features \(end)/\(dataset.count)")
        }
        return Tensor(shape: [dataset.count, d], scalars: features)
    }
}

/// The checks a graph must pass to be used on images: one float input shaped [N, 3, H, W].
enum ImageGraph {
    static func check(_ model: ONNXModel) throws {
        guard model.inputs.count == 1, let input = model.inputs.first else {
            throw PerceptError.unsupported(model.path, "a backbone takes one input (an image batch); this graph takes "
                + "\(model.inputs.count): \(model.inputs.map(\.description).joined(separator: ", "))")
        }
        let shape = input.shape
        guard input.elementType == "FLOAT", shape.count == 4, shape[1] == 3, let height = shape[2], let width = shape[3],
              height > 0, width > 0 else {
            throw PerceptError.unsupported(model.path, "its input \(input) is not an image batch [N, 3, H, W] of floats; "
                + "a backbone must take RGB images (export the network with an image input)")
        }
    }

    /// The input's H and W (checked by `check`).
    static func inputSize(_ model: ONNXModel) -> (height: Int, width: Int)? {
        guard let shape = model.inputs.first?.shape, shape.count == 4, let h = shape[2], let w = shape[3] else { return nil }
        return (h, w)
    }
}
