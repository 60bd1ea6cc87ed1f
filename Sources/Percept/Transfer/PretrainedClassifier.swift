import Foundation
import PerceptCore
import PerceptData
import PerceptImage
import PerceptONNX

/// A pretrained network used as it was trained: its own outputs (ImageNet's 1,000 classes for
/// EfficientNet-Lite0) as class probabilities — `percept predict backbone.onnx photo.jpg`.
public struct PretrainedClassifier: Sendable {
    public let spec: BackboneSpec
    public let session: ONNXSession
    /// The graph's class names: the labels file's, else the registered backbone's, else "0", "1", ….
    public let classNames: [String]

    /// `value` is an `.onnx` file or a registered backbone name; `labelsPath` names the classes.
    public init(_ value: String, labelsPath: String? = nil, store: BackboneStore = BackboneStore(), threads: Int? = nil) throws {
        var spec: BackboneSpec, bytes: Data, path: String
        if value.hasSuffix(".onnx") || FileManager.default.fileExists(atPath: value) {
            do { bytes = try Data(contentsOf: URL(fileURLWithPath: value)) } catch {
                throw PerceptError.io(value, "cannot read the ONNX model: \(error.localizedDescription)")
            }
            path = value
            spec = BackboneSpec(name: ((value as NSString).lastPathComponent as NSString).deletingPathExtension)
        } else {
            (spec, bytes, path) = try store.verifiedFile(named: value)
        }
        let model = try ONNXModel(serializedBytes: bytes, path: path)
        try ImageGraph.check(model)
        if let size = ImageGraph.inputSize(model), spec.sha256.isEmpty {
            spec = BackboneSpec(name: spec.name, inputSize: size.height)
        }
        session = try ONNXSession(model: model, output: nil, threads: threads ?? Parallel.defaultThreadCount)
        let labels = try labelsPath.map(BackboneStore.readLabels) ?? spec.labels
        if let labels, labels.count != session.outputCount {
            throw PerceptError.invalidData("\(labels.count) class names for a graph with \(session.outputCount) outputs",
                                           path: labelsPath ?? path)
        }
        classNames = labels ?? (0..<session.outputCount).map(String.init)
        self.spec = spec
    }

    /// N × classes probabilities: the softmax of the graph's outputs (its logits).
    public func probabilities(for dataset: Dataset) throws -> Tensor {
        var scores = [Float]()
        var start = 0
        while start < dataset.count {
            let end = min(dataset.count, start + Backbone.batchSize)
            scores += try session.run(images: try spec.inputs(dataset, range: start..<end), batch: end - start)
            start = end
        }
        return softmaxRows(Tensor(shape: [dataset.count, session.outputCount], scalars: scores))
    }

    /// The top classes of each image file, decoded as the backbone's spec wants (an unreadable
    /// file gets its `error` and the others go on, unless `strict`).
    public func predict(files paths: [String], top: Int = 5, strict: Bool = false, threads: Int? = nil) throws -> [FilePrediction] {
        var answers = paths.map { FilePrediction(path: $0, top: [], error: nil) }
        // Decoding to the centred square of side resizeTo is "shorter side to resizeTo" followed by
        // the first part of the centre crop; the spec then crops the input from it.
        let side = spec.resize == .shorterCrop ? spec.resizeTo : spec.inputSize
        let decoded = try ImageImporter.decode(files: paths, size: ImageSize(width: side, height: side),
                                               resizeMode: spec.resize == .squash ? .squash : .centerCrop,
                                               classNames: ["image"], strict: strict, threads: threads)
        for (index, reason) in decoded.failures { answers[index].error = reason }
        guard let dataset = decoded.dataset else { return answers }
        let probabilities = try probabilities(for: dataset)
        let rankings = rankClasses(byScores: probabilities, k: min(top, classNames.count))
        let c = classNames.count
        for (row, index) in decoded.readable.enumerated() {
            answers[index].top = rankings[row].map {
                FilePrediction.Guess(label: classNames[$0], probability: Double(probabilities.scalars[row * c + $0]))
            }
        }
        return answers
    }
}
