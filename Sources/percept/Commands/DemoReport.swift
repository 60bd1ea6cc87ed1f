import Foundation
import PerceptEvaluation

/// The demo's report: a Markdown page a person reads and a JSON file a script reads.
struct DemoReport {
    private var sections: [(title: String, seconds: Double?, body: String)] = []
    var classCounts: [(String, Int)] = []
    var tuning: [(String, String)] = []
    var classification = ""
    var confusion = ""

    mutating func add(_ title: String, seconds start: DispatchTime? = nil, _ body: String) {
        sections.append((title, start.map(Terminal.seconds(since:)), body))
        Terminal.info("\(title.lowercased()): done" + (start.map { String(format: " in %.2f s", Terminal.seconds(since: $0)) } ?? ""))
    }

    func markdown(totalSeconds: Double) -> String {
        var text = "# Percept demo report\n\n"
        for section in sections {
            text += "## \(section.title)" + (section.seconds.map { String(format: " (%.2f s)", $0) } ?? "") + "\n\n"
            text += section.body + "\n\n"
            if section.title == "Import", !classCounts.isEmpty {
                text += "| label | images |\n|---|---:|\n" + classCounts.map { "| \($0.0) | \($0.1) |" }.joined(separator: "\n") + "\n\n"
            }
            if section.title == "Train", !tuning.isEmpty {
                text += "| setting | cross-validation accuracy (mean ± std over 5 folds) |\n|---|---:|\n"
                    + tuning.map { "| \($0.0) | \($0.1) |" }.joined(separator: "\n") + "\n\n"
                text += "![accuracy vs k: one dot per fold, mean line, ±1 std error bars](knn-cv.png)\n\n"
            }
            if section.title == "Evaluate" {
                text += "```\n\(classification)\n```\n\nConfusion matrix (rows: true label, columns: predicted):\n\n```\n\(confusion)\n```\n\n"
                text += "![test predictions: green right, red wrong](test-predictions.png)\n\n"
                text += "Nearest training images of a few test images (k-NN's view, by its chosen metric), nearest first; green: same label as the query:\n\n"
                text += "![retrievals](retrievals.png)\n\n"
            }
        }
        return text + String(format: "Total: %.1f s.\n", totalSeconds)
    }

    static func json(_ numbers: [String: Double], model: String, metric: String,
                     classification: ClassificationReport) throws -> String {
        struct Payload: Encodable {
            var numbers: [String: Double]
            /// The model chosen on validation, which `numbers`' test figures and `classification` describe.
            var model: String
            /// k-NN's metric chosen by cross-validation.
            var metric: String
            var classification: ClassificationReport
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(Payload(numbers: numbers, model: model, metric: metric, classification: classification)),
                      as: UTF8.self)
    }
}
