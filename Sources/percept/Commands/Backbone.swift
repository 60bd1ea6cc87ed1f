import ArgumentParser
import Foundation
import PerceptONNX

/// Pretrained networks used as backbones (ONNX files). Only `inspect` exists so far; running
/// graphs, `add` and `list` come with the transfer family.
struct BackboneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backbone",
        abstract: "Look inside pretrained networks (ONNX) used as backbones.",
        subcommands: [BackboneInspect.self])
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
