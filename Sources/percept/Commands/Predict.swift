import ArgumentParser
import Foundation
import Percept

/// `percept predict`: "upload a photo, get its label" — for any number of files at once.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Label images with a saved model: the top labels with their probabilities, or every class score.",
        discussion: """
            Takes image files, folders (searched recursively) or both; images of any size are resized as
            at training. Files that cannot be read are reported and the rest go on (--strict stops).

            Examples:
              percept predict photos.percept cat.jpg
              percept predict photos.percept new-photos/ --top 3 --csv > labels.csv
              percept predict photos.percept *.png --json
              percept predict linear.percept cat.jpg car.jpg frog.jpg --scores
              percept predict efficientnet-lite0.onnx cat.jpg --labels imagenet.txt

            An .onnx file (or the name of a backbone registered with `percept backbone add`)
            classifies with the pretrained network itself: the softmax of its outputs, named by
            --labels (one class name a line) or the registered labels, else by class index.

            --scores prints raw class scores instead of labels (Wx + b for a linear
            model, before any softmax): one row per class, one column per image, the
            lecture's class-score table; with --json, each image's scores by class.

            --distributed (under mpirun or srun) splits a k-NN model's stored images across the
            ranks: every rank decodes the files, they check they hold the same model and images,
            and rank 0 prints exactly what one process prints.
            """)

    @Argument(help: "A model saved by `percept train`, an .onnx network, or a registered backbone's name.")
    var model: String

    @Argument(help: "Image files or folders.")
    var inputs: [String]

    @Option(help: "How many labels per image.")
    var top = 5

    @Flag(help: "Print JSON on stdout.")
    var json = false

    @Flag(help: "Print CSV on stdout: path,rank,label,probability (errors as rank 0).")
    var csv = false

    @Flag(help: "Print every class's raw score (one row per class, one column per image) instead of labels.")
    var scores = false

    @Flag(help: "Stop at the first unreadable image.")
    var strict = false

    @Option(help: "Decoding threads (default: every core).")
    var threads: Int?

    @Option(help: "Class names of an .onnx network's outputs, one a line.")
    var labels: String?

    @OptionGroup var distributedOptions: DistributedOptions

    func validate() throws {
        guard top >= 1 else { throw ValidationError("--top must be at least 1 (got \(top))") }
        guard !(json && csv) else { throw ValidationError("choose one of --json and --csv") }
        guard !inputs.isEmpty else { throw ValidationError("give at least one image file or folder") }
        guard !(scores && csv) else { throw ValidationError("--scores prints a table or --json, not --csv") }
        guard !(distributedOptions.distributed && (scores || isPretrainedNetwork)) else {
            throw ValidationError("--distributed splits a k-NN model's search; --scores and .onnx networks run as one process")
        }
        guard labels == nil || isPretrainedNetwork else {
            throw ValidationError("--labels names the classes of an .onnx network; a .percept model has its own")
        }
    }

    /// An .onnx file, or a registered backbone's name that is not a file.
    private var isPretrainedNetwork: Bool {
        model.hasSuffix(".onnx")
            || (!FileManager.default.fileExists(atPath: model) && (try? BackboneStore().spec(named: model)) != nil)
    }

    func run() throws {
        let communicator = try distributedOptions.communicator()
        let files = try expand(inputs)
        guard !files.isEmpty else { throw PerceptError.invalidData("no files found in \(inputs.joined(separator: ", "))") }
        if isPretrainedNetwork {
            guard !scores else { throw ValidationError("--scores needs a .percept model; an .onnx network prints its top classes") }
            let network = try PretrainedClassifier(model, labelsPath: labels, threads: threads)
            return try printPredictions(try network.predict(files: files, top: top, strict: strict, threads: threads))
        }
        let saved = try SavedModel.load(model)
        try saved.requireSameModel(on: communicator, path: model)
        if scores {
            try printScores(saved, files)
            return
        }
        try printPredictions(try saved.predict(files: files, top: top, strict: strict, threads: threads,
                                               communicator: communicator))
    }

    private func printPredictions(_ predictions: [FilePrediction]) throws {
        if json {
            try Terminal.printJSON(predictions)
        } else if csv {
            var rows = [["path", "rank", "label", "probability", "error"]]
            for prediction in predictions {
                if let error = prediction.error { rows.append([prediction.path, "0", "", "", error]) }
                for (rank, guess) in prediction.top.enumerated() {
                    rows.append([prediction.path, String(rank + 1), guess.label, String(format: "%.6f", guess.probability), ""])
                }
            }
            print(try CSVOutput.render(rows), terminator: "")
        } else {
            for prediction in predictions {
                if let error = prediction.error {
                    Terminal.warning("\(prediction.path): \(error)")
                    continue
                }
                // Labels with no probability at all (k-NN classes no neighbour voted for) say nothing.
                let shown = prediction.top.enumerated().filter { $0.offset == 0 || $0.element.probability > 0 }.map(\.element)
                let guesses = shown.map { "\($0.label) \(String(format: "%.1f%%", $0.probability * 100))" }
                print("\(prediction.path): \(guesses.joined(separator: ", "))")
            }
        }
        try reportFailures(predictions.filter { $0.error != nil }.count, of: predictions.count)
    }

    private func printScores(_ saved: SavedModel, _ files: [String]) throws {
        let answers = try ScoreTable.scores(of: saved, files: files, strict: strict, threads: threads)
        if json {
            try Terminal.printJSON(answers)
        } else {
            for answer in answers where answer.error != nil { Terminal.warning("\(answer.path): \(answer.error ?? "")") }
            if answers.contains(where: { $0.error == nil }) {
                print(ScoreTable.render(answers, classNames: saved.classNames), terminator: "")
            }
        }
        try reportFailures(answers.filter { $0.error != nil }.count, of: answers.count)
    }

    private func reportFailures(_ failed: Int, of total: Int) throws {
        if failed == total {
            throw PerceptError.invalidData("none of the \(failed) file\(failed == 1 ? "" : "s") could be read as an image")
        }
        if failed > 0 {
            Terminal.info("\(failed) of \(total) file\(total == 1 ? "" : "s") could not be read; --strict makes that fatal")
        }
    }

    /// Files as given, folders expanded to the files under them as a dataset folder is listed
    /// (sorted, hidden files skipped, symbolic links followed once and never in a loop).
    private func expand(_ inputs: [String]) throws -> [String] {
        var files: [String] = []
        for input in inputs {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isDirectory) else {
                if strict { throw PerceptError.io(input, "no such file or folder") }
                files.append(input)  // reported per file as unreadable
                continue
            }
            guard isDirectory.boolValue else { files.append(input); continue }
            let tree = FileTree(directory: input)
            if strict, let problem = tree.problems.first {
                throw PerceptError.invalidData(problem.reason + " (stopped: --strict)", path: problem.path)
            }
            for problem in tree.problems { Terminal.warning(problem.description) }
            files += tree.files.map { tree.displayPath($0) }
        }
        return files
    }
}
