import ArgumentParser
import Foundation
import Percept

/// `percept export`: a saved model as an ONNX file, for onnxruntime, Core ML converters and phones.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a saved model as an ONNX file (images 0…255 in, class probabilities out).",
        discussion: """
            The graph takes `images`, float32 [N, 3, H, W] RGB pixel values 0–255 already resized to the
            model's size, normalises them inside, and gives `probabilities` [N, classes]: the numbers
            `percept predict` prints (a network's test-time views included, unless --tta says otherwise).
            Its metadata says how to prepare images: percept.labels (JSON array), percept.input_size
            (WxH) and percept.resize (squash, center-crop, shorter-crop). Linear, MLP (on pixel features),
            CNN and transfer models export (a transfer model as its backbone and head in one graph, taking
            the backbone's crop); k-NN and nearest class mean keep images rather than weights and do not.

            Examples:
              percept export photos.percept -o photos.onnx
              percept export cifar.percept -o cifar.onnx --tta none     # one view: faster, not predict's numbers
            """)

    @Argument(help: "A model saved by `percept train`.")
    var model: String

    @Option(name: .shortAndLong, help: "The ONNX file to write.")
    var output: String

    @Option(help: "ONNX operator set version (13–21).")
    var opset = 17

    @Option(help: "Test-time views for a CNN: none, flip or flip-translate (default: the model's own, as predict uses).")
    var tta: String?

    @Flag(help: "Print what was written as JSON on stdout.")
    var json = false

    func validate() throws {
        if let tta, TestTimeAugmentation(rawValue: tta) == nil {
            throw ValidationError("--tta must be one of \(TestTimeAugmentation.allCases.map(\.rawValue).joined(separator: ", ")) (got \(tta))")
        }
    }

    func run() throws {
        let options = ONNXExportOptions(opsetVersion: opset, testTimeAugmentation: tta.flatMap(TestTimeAugmentation.init(rawValue:)))
        let summary = try ONNXExport.export(modelAt: model, to: output, options: options)
        if json {
            try Terminal.printJSON(summary)
            return
        }
        let size = summary.bytes < 1_000_000 ? String(format: "%.1f KB", Double(summary.bytes) / 1000)
            : String(format: "%.1f MB", Double(summary.bytes) / 1_000_000)
        print("wrote \(output): images \(summary.inputShape) → probabilities [N, \(summary.classes)], \(summary.nodes) nodes "
              + "(\(summary.operators.joined(separator: ", "))), \(size)")
    }
}
