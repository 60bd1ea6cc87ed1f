import Foundation
import PerceptCore
import PerceptModelKit
import PerceptNetwork
import PerceptONNX

/// A model type that can be written as one ONNX graph from pixels to probabilities.
///
/// The contract every export keeps (so another runtime gives what `percept predict` gives): input
/// `images`, Float32 N×3×H×W RGB pixel values 0…255 (the image already resized as the metadata says),
/// every normalisation inside the graph; output `probabilities`, N×classes, the numbers `percept
/// predict` prints. A family makes its models exportable by conforming their type, in its own file.
public protocol ONNXExportable: ArchivableModel {
    /// Appends the model's graph reading `images` and returns the value holding N×classes probabilities.
    func appendONNXGraph(to graph: inout ONNXGraphBuilder, images: String, inputShape: [Int],
                         options: ONNXExportOptions) throws -> String
    /// The graph's input when it is not the size the model decodes images to, and how images are
    /// brought to it: a transfer model takes its backbone's crop (224², "shorter-crop").
    var onnxInput: (shape: [Int], resize: String)? { get }
}

extension ONNXExportable {
    public var onnxInput: (shape: [Int], resize: String)? { nil }
}

/// A model type that cannot be exported, and why (the reason completes "… cannot be exported to ONNX: ").
public protocol ONNXExportRefusing {
    static var onnxRefusal: String { get }
}

/// How `percept export` writes a model.
public struct ONNXExportOptions: Sendable {
    /// ONNX's default-domain opset (13 or newer that Percept reads).
    public var opsetVersion: Int
    /// The views a network's probabilities are averaged over; nil: the model's own, as `percept predict`.
    public var testTimeAugmentation: TestTimeAugmentation?

    public init(opsetVersion: Int = ONNXGraphBuilder.defaultOpsetVersion, testTimeAugmentation: TestTimeAugmentation? = nil) {
        self.opsetVersion = opsetVersion
        self.testTimeAugmentation = testTimeAugmentation
    }
}

/// What was written (`percept export --json` prints it).
public struct ONNXExportSummary: Sendable, Equatable, Codable {
    /// The ONNX file.
    public var file: String
    /// The `images` input's shape, `[N, 3, H, W]`.
    public var inputShape: String
    public var classes: Int
    public var nodes: Int
    /// The operators the graph uses, sorted.
    public var operators: [String]
    public var bytes: Int
}

extension SavedModel {
    /// The model as an ONNX graph: `images` → `probabilities`, with metadata `percept.labels` (a JSON
    /// array), `percept.input_size` ("WxH") and `percept.resize` (how images were brought to that size).
    ///
    /// - Throws: `.unsupported` for a family without an ONNX form (k-NN) or a model on features ONNX
    ///   cannot compute (HOG), saying which families export.
    public func onnxGraph(options: ONNXExportOptions = ONNXExportOptions()) throws -> ONNXGraphBuilder {
        guard let exportable = model as? any ONNXExportable else {
            let name = family?.name ?? kind
            let reason = (type(of: model) as? any ONNXExportRefusing.Type)?.onnxRefusal
                ?? "Percept has no ONNX form for \(kind) models"
            let families = ONNXExport.exportableFamilyNames
            let choices = families.count > 1
                ? families.dropLast().joined(separator: ", ") + " or " + (families.last ?? "") : families.joined()
            throw PerceptError.unsupported(nil, "\(name) cannot be exported to ONNX: \(reason); train \(choices) to export")
        }
        guard inputShape[2] == 3 else {
            throw PerceptError.unsupported(nil, "the model takes \(inputShape[2])-channel images; ONNX export writes "
                + "RGB models (3 channels)")
        }
        var graph = try ONNXGraphBuilder(name: family?.name ?? kind, opsetVersion: options.opsetVersion)
        let inputShape = exportable.onnxInput?.shape ?? self.inputShape
        let shape: [Int?] = [nil, 3, inputShape[0], inputShape[1]]
        graph.addInput("images", shape: shape)
        let probabilities = try exportable.appendONNXGraph(to: &graph, images: "images", inputShape: inputShape,
                                                           options: options)
        try graph.addOutput(probabilities, as: "probabilities", shape: [nil, classNames.count])
        let labels = try JSONSerialization.data(withJSONObject: classNames, options: [.withoutEscapingSlashes])
        graph.setMetadata("percept.labels", String(decoding: labels, as: UTF8.self))
        graph.setMetadata("percept.input_size", "\(inputShape[1])x\(inputShape[0])")
        graph.setMetadata("percept.resize", exportable.onnxInput?.resize ?? resizeMode.rawValue)
        graph.setMetadata("percept.kind", kind)
        if let family { graph.setMetadata("percept.family", family.name) }
        return graph
    }
}

/// `percept export`'s work: a model file in, an ONNX file out.
public enum ONNXExport {
    /// The families whose models export, in the registry's order.
    public static var exportableFamilyNames: [String] {
        var names: [String] = []
        for family in ModelRegistry.families {
            let modelTypes: [any ArchivableModel.Type] = family.modelTypes
            if modelTypes.contains(where: isExportable) { names.append(family.name) }
        }
        return names
    }

    static func isExportable(_ type: any ArchivableModel.Type) -> Bool {
        type is any ONNXExportable.Type
    }

    /// Reads the model at `modelPath` and writes it to `outputPath` as ONNX (atomically).
    ///
    /// - Throws: the model file's own errors, and the export's, naming the model file.
    @discardableResult
    public static func export(modelAt modelPath: String, to outputPath: String,
                              options: ONNXExportOptions = ONNXExportOptions()) throws -> ONNXExportSummary {
        let saved = try SavedModel.load(modelPath)
        let graph: ONNXGraphBuilder
        do {
            graph = try saved.onnxGraph(options: options)
        } catch let error as PerceptError where error.path == nil {
            throw PerceptError(error.kind, path: modelPath, error.reason)
        }
        let bytes = try graph.serializedData()
        try AtomicFile.write(bytes, to: outputPath)
        let shape = (saved.model as? any ONNXExportable)?.onnxInput?.shape ?? saved.inputShape
        return ONNXExportSummary(file: outputPath, inputShape: "[N, 3, \(shape[0]), \(shape[1])]",
                                 classes: saved.classNames.count, nodes: graph.operatorTypes.count,
                                 operators: Set(graph.operatorTypes).sorted(), bytes: bytes.count)
    }
}
