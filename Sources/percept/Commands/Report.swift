import ArgumentParser
import Foundation
import Percept

/// `percept report`: everything about a model (and its data) on one self-contained HTML page.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a self-contained HTML report on a model, and on a dataset if one is given.",
        discussion: """
            The page holds the model's facts and settings, and with DATA the label statistics, warnings,
            the metrics on the test split (as `percept evaluate` computes them), the confusion matrix and
            the most confident mistakes. Pictures are inline: the file opens offline, anywhere.

            Examples:
              percept report photos.percept ~/photos -o report.html
              percept report photos.percept -o model.html
            """)

    @Argument(help: "A model saved by `percept train`.")
    var model: String

    @Argument(help: "Labelled images to describe and evaluate on (optional).")
    var data: String?

    @Option(name: .shortAndLong, help: "The HTML file to write.")
    var output = "report.html"

    @Option(help: "Which split to evaluate: test, validation or train.")
    var split: Evaluate.SplitChoice = .test

    @Option(help: "Decoding threads (default: every core).")
    var threads: Int?

    @Flag(help: "Follow symbolic links to folders outside the dataset folder (other links are always followed, once).")
    var followLinks = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    var quiet = false

    func validate() throws {
        if split == .all { throw ValidationError("--split takes test, validation or train for a report") }
    }

    func run() throws {
        Terminal.quiet = quiet
        let saved = try SavedModel.load(model)
        var report = ModelReport(model: saved, modelPath: model)
        if let data {
            Terminal.progress("decoding \(data) …")
            let loaded = try ModelReport.loadData(data, for: saved, threads: threads, followLinks: followLinks)
            Terminal.endProgress()
            reportProblems(loaded.problems, notes: loaded.notes)
            report.data = (loaded, data)
            report.split = split == .validation ? .validation : split == .train ? .train : .test
        }
        try AtomicFile.write(try report.html(), to: output)
        if !quiet { print("wrote \(output)") }
    }
}
