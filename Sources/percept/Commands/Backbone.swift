import ArgumentParser
import Foundation
import Percept
import PerceptONNX

/// Pretrained networks used as backbones (ONNX files): look inside one, register one for the
/// transfer family (`add`), list what is registered.
struct BackboneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backbone",
        abstract: "Register, list and look inside pretrained networks (ONNX) used as backbones.",
        subcommands: [BackboneAdd.self, BackboneList.self, BackboneInspect.self])
}

struct BackboneAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Copy an ONNX backbone into Percept's cache under a name, with its preprocessing and checksum.",
        discussion: """
            The file is checked (it loads, its input is an image batch [N, 3, H, W]) and copied to
            ~/.cache/percept/backbones/NAME/ ($PERCEPT_CACHE or $XDG_CACHE_HOME/percept when set); its
            SHA-256 is recorded and checked whenever the backbone is used. The preprocessing is data:
            the defaults are EfficientNet-Lite0's (shorter side 256, centre crop 224, (p - 127) / 128).
            Examples:
              percept backbone add efficientnet-lite0.onnx --name efficientnet-lite0 --labels imagenet.txt
              percept backbone add resnet18.onnx --name resnet18 --mean 123.7,116.3,103.5 --std 58.4,57.1,57.4
            """)

    @Argument(help: "An .onnx file.")
    var model: String

    @Option(help: "The name to use it by (--backbone NAME).")
    var name: String

    @Option(help: "Input side in pixels (default: the graph's).")
    var input: Int?

    @Option(help: "How images are fitted: shorter-crop, squash or center-crop.")
    var resize = BackboneSpec.Resize.shorterCrop

    @Option(name: .customLong("resize-to"), help: "Shorter side before the centre crop (default: input × 256/224).")
    var resizeTo: Int?

    @Option(help: "Per-channel mean in pixel units, R,G,B.")
    var mean = "127,127,127"

    @Option(help: "Per-channel standard deviation in pixel units, R,G,B.")
    var std = "128,128,128"

    @Option(name: .customLong("feature-node"), help: "The graph value used as features (default: the input of the final Gemm/MatMul).")
    var featureNode: String?

    @Option(help: "Class names of the graph's own outputs, one a line (for `percept predict`).")
    var labels: String?

    @Flag(help: "Print the recorded backbone as JSON on stdout.")
    var json = false

    func run() throws {
        let spec = BackboneSpec(name: name, inputSize: input ?? 224, resize: resize, resizeTo: resizeTo,
                                mean: try numbers(mean, "--mean"), std: try numbers(std, "--std"), featureNode: featureNode)
        let store = BackboneStore()
        let added = try store.add(model, spec: spec, inputGiven: input != nil || resizeTo != nil, labelsPath: labels)
        if json { return try Terminal.printJSON(added) }
        print("added \(added.name): \(added.inputSize)x\(added.inputSize) input, \(added.resize.rawValue)"
              + (added.resize == .shorterCrop ? " from \(added.resizeTo)" : "") + ", sha256 \(added.sha256.prefix(16))…, in "
              + "\(store.folder)/\(added.name)")
    }

    private func numbers(_ text: String, _ option: String) throws -> [Float] {
        let values = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        let parsed = values.compactMap { $0 }
        guard values.count == 3, parsed.count == 3 else {
            throw ValidationError("\(option) takes three numbers R,G,B in pixel units, e.g. 127,127,127 (got '\(text)')")
        }
        return parsed
    }
}

extension BackboneSpec.Resize: ExpressibleByArgument {}

struct BackboneList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the registered backbones and their preprocessing.",
        discussion: """
            Reads ~/.cache/percept/backbones ($PERCEPT_CACHE or $XDG_CACHE_HOME/percept when set).
            Examples:
              percept backbone list
              percept backbone list --json
            """)

    @Flag(help: "Print the backbones as JSON on stdout.")
    var json = false

    func run() throws {
        let store = BackboneStore()
        let specs = try store.list()
        if json { return try Terminal.printJSON(specs) }
        guard !specs.isEmpty else {
            print("no backbones in \(store.folder); add one with `percept backbone add FILE.onnx --name NAME`")
            return
        }
        let rows = specs.map { spec in
            [spec.name, "\(spec.inputSize)", spec.resize == .shorterCrop ? "shorter-crop \(spec.resizeTo)" : spec.resize.rawValue,
             spec.mean.map { String(format: "%g", $0) }.joined(separator: ","), spec.std.map { String(format: "%g", $0) }.joined(separator: ","),
             spec.labels.map { "\($0.count)" } ?? "-", String(spec.sha256.prefix(12))]
        }
        let header = ["name", "input", "resize", "mean", "std", "labels", "sha256"]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            print(row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}

struct BackboneInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Check an ONNX model loads and show its inputs, outputs, operators and parameters.",
        discussion: """
            Fails with the reason when the file is damaged or uses something Percept does not read
            (an unsupported operator, a dynamic input size, weights in an external file, an opset outside 7...21).
            Examples:
              percept backbone inspect efficientnet-lite0.onnx
              percept backbone inspect model.onnx --json
            """)

    @Argument(help: "An .onnx file.")
    var model: String

    @Flag(help: "Print the summary as JSON on stdout.")
    var json = false

    /// What `inspect` reports, in the order it prints it.
    struct Summary: Encodable {
        var path: String
        var irVersion: Int
        var opsetVersions: [String: Int]
        var producer: String
        var inputs: [ONNXValueInfo]
        var outputs: [ONNXValueInfo]
        var nodeCount: Int
        var operators: [String: Int]
        var initializerCount: Int
        var parameterCount: Int
        var classifierInput: ONNXFeatureVector?
    }

    func run() throws {
        let loaded = try ONNXModel.load(model)
        let summary = Summary(
            path: model, irVersion: loaded.irVersion, opsetVersions: loaded.opsetVersions, producer: loaded.producer,
            inputs: loaded.inputs, outputs: loaded.outputs, nodeCount: loaded.nodes.count,
            operators: loaded.nodes.reduce(into: [:]) { $0[$1.operatorType, default: 0] += 1 },
            initializerCount: loaded.initializers.count, parameterCount: loaded.parameterCount,
            classifierInput: loaded.classifierInput)
        if json {
            try Terminal.printJSON(summary)
            return
        }
        print("\(model): ONNX IR \(summary.irVersion), opset \(loaded.opsetVersion)"
              + (summary.producer.isEmpty ? "" : ", written by \(summary.producer)"))
        for input in summary.inputs { print("input   \(input)") }
        for output in summary.outputs { print("output  \(output)") }
        let operators = summary.operators.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        print("\(summary.nodeCount) nodes: " + operators.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
        print("\(summary.initializerCount) initializers, \(summary.parameterCount) parameters")
        if let features = summary.classifierInput {
            print("features: '\(features.name)', \(features.width) wide (the input of the classifier '\(features.classifierNode)')")
        }
    }
}
