import ArgumentParser
import Foundation
import Percept

/// `percept evaluate`: the one look at the test split, with every number AutoML shows.
struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a saved model on labelled images: accuracy, top-5, precision/recall/F1, confusion matrix.",
        discussion: """
            DATA is divided exactly as `percept train` divided it (same seed, recorded in the model), so
            --split test (the default) means the images training never saw. Images are resized to the
            model's input size as at training.

            Examples:
              percept evaluate photos.percept ~/photos
              percept evaluate photos.percept ~/photos --split validation --output eval/
              percept evaluate photos.percept other-photos/ --split all --json
              mpirun -np 4 percept evaluate knn.percept photos.pack --distributed

            --distributed (under mpirun or srun) splits a k-NN model's stored images across the
            ranks; the output is exactly the single-process output, printed by rank 0. Before any
            work the ranks check they hold the same model file and the same images.
            """)

    enum SplitChoice: String, ExpressibleByArgument, CaseIterable {
        case test, validation, train, all
    }

    @Argument(help: "A model saved by `percept train`.")
    var model: String

    @Argument(help: "Labelled images (any dataset form).")
    var data: String

    @Option(help: "Which images: test, validation, train or all.")
    var split: SplitChoice = .test

    @Option(help: "Seed of the split (default: the one the model was trained with).")
    var seed: UInt64?

    @Option(name: .shortAndLong, help: "Folder for the confusion matrix (SVG, PNG) and the most confident mistakes (PNG).")
    var output: String?

    @Flag(help: "Stop at the first unreadable image instead of reporting it and going on.")
    var strict = false

    @Option(help: "Decoding and search threads (default: every core).")
    var threads: Int?

    @Flag(help: "Follow symbolic links to folders outside the dataset folder (other links are always followed, once).")
    var followLinks = false

    @Flag(help: "Print the evaluation as JSON on stdout.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors (and --json output).")
    var quiet = false

    @OptionGroup var distributedOptions: DistributedOptions

    func run() throws {
        Terminal.quiet = quiet || json
        let communicator = try distributedOptions.communicator()
        let saved = try SavedModel.load(model)
        try saved.requireSameModel(on: communicator, path: model)
        let options = ImportOptions(imageSize: saved.inputSize, resizeMode: saved.resizeMode, strict: strict, threads: threads,
                                    followLinks: followLinks)
        Terminal.progress("decoding \(data) …")
        let loaded = try DatasetLoader.load(data, options: options)
        Terminal.endProgress()
        reportProblems(loaded.problems, notes: loaded.notes)
        let dataset: Dataset
        if split == .all {
            dataset = loaded.dataset
        } else {
            let (splits, notes) = try loaded.dataset.standardSplits(as: saved, seed: seed)
            for note in notes { Terminal.info("note: \(note)") }
            dataset = split == .test ? splits.test : split == .validation ? splits.validation : splits.train
        }
        guard !dataset.isEmpty else {
            throw PerceptError.invalidData("the \(split.rawValue) split has no images; try --split all", path: data)
        }
        let evaluated = try fitted(dataset, to: saved)
        if communicator.size > 1 {
            try communicator.requireAgreement(on: evaluated.contentDigest, what: "\(split.rawValue) images of \(data)")
        }
        Terminal.info("evaluating \(saved.kind) on \(dataset.count) \(split == .all ? "" : split.rawValue + " ")images"
                      + (communicator.size > 1 ? " (search split across \(communicator.size) ranks)" : ""))
        let evaluation = try Evaluation(model: saved.model, on: evaluated, communicator: communicator)

        var written: [String] = []
        // Rank 0 alone writes files, as it alone prints.
        if let output, communicator.isRoot {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            let heatmap = try evaluation.confusion.heatmap()
            try AtomicFile.write(heatmap.svg(), to: "\(output)/confusion.svg")
            try AtomicFile.write(Data(try heatmap.pngData()), to: "\(output)/confusion.png")
            written += ["\(output)/confusion.svg", "\(output)/confusion.png"]
            if !evaluation.mistakes.isEmpty {
                let path = "\(output)/mistakes.png"
                try AtomicFile.write(Data(try evaluation.mistakeSheet(dataset).pngData()), to: path)
                written.append(path)
            }
        }
        if json { return try Terminal.printJSON(Output(split: split.rawValue, evaluation: evaluation, files: written)) }
        print("\(evaluation.images) \(split == .all ? "" : split.rawValue + " ")images: accuracy \(percent(evaluation.accuracy)), "
              + "top-\(evaluation.topK) accuracy \(percent(evaluation.topKAccuracy))\n")
        print(evaluation.report.rendered())
        print(evaluation.confusion.rendered())
        for path in written { print("wrote \(path)") }
    }

    /// The dataset at the model's input size (loading already resized; this guards other sources).
    private func fitted(_ dataset: Dataset, to saved: SavedModel) throws -> Dataset { try saved.fitted(dataset) }

    /// The `--json` output.
    struct Output: Codable {
        var split: String
        var evaluation: Evaluation
        var files: [String]
    }
}
