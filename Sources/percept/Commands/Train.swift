import ArgumentParser
import Foundation
import Percept
import PerceptModelKit

/// `percept train`: the AutoML step — point at labelled images, get a saved, validated model.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model on a dataset and save it to a .percept file.",
        usage: "percept train DATA [--model FAMILY] [family options] [-o FILE] [options]",
        discussion: Train.discussion)

    /// The general text, then every family's options and default input size, from the registry.
    static var discussion: String {
        var text = """
            DATA is any dataset form: a folder with one subfolder per label, train/ val/
            test/ folders, a CSV manifest, CIFAR binaries, a .pack, or an archive of
            these. Items without a split are divided 80/10/10 (seeded); without a
            validation split, part of the training images is held out. The model is
            fitted on the training split and measured on validation; the test split is
            left for `percept evaluate`.

            Without --size, images keep their own size when the first one is no larger
            than the family's default input size (CIFAR's 32x32 stays 32x32); larger
            images (camera photos) are fitted to it. A .pack or CIFAR binary keeps its
            size.

            Examples:
              percept train ~/photos --model knn --k 5 --metric l1 -o photos.percept
              percept train cifar10.pack --model ncm -o baseline.percept --json
              percept train cifar10.pack --model softmax --lr 1e-2 --reg 1e-3 \\
                --epochs 14 -o softmax.percept
              percept train cifar10.pack --model mlp --features hog-color \\
                --hidden 500 --lr 3e-2 -o mlp.percept
              percept train cifar10.pack --model cnn --arch resnet20 --epochs 30 \\
                --checkpoint run.ckpt -o cnn.percept
              percept train photos/ --model cnn --arch my-net.json --resume \\
                --checkpoint run.ckpt
              mpirun -np 4 percept train cifar10.pack --model cnn --arch airbench94 \\
                --threads 1 --distributed -o cnn.percept

            With --distributed under mpirun or srun, every rank loads DATA (a .pack
            is memory-mapped) and each global batch (--batch) is split across the
            ranks, whose gradients are summed every step: the svm, softmax, mlp and
            cnn families give the model one process would train with the same seed
            and batch. Rank 0 alone prints and writes the model and checkpoints; a
            checkpoint resumes with any number of ranks.

            MODEL FAMILIES AND THEIR OPTIONS
            """
        for family in ModelRegistry.families {
            let size = family.defaultInputSize
            text += "\n\n  --model \(family.name)  (default input \(size.width)x\(size.height))\n"
                + wrapped(family.summary, indent: 4)
            for parameter in family.parameters {
                let value = parameter.kind == .flag ? "" : " <\(parameter.name)>"
                let fallback = parameter.defaultValue.map { " (default \($0))" } ?? ""
                text += "\n    --\(parameter.name)\(value)\n" + wrapped(parameter.help + fallback, indent: 8)
            }
        }
        return text
    }

    @Option(help: ArgumentHelp("Model family: \(ModelRegistry.names.joined(separator: ", ")) (its options are listed below; "
                               + "default: transfer when a backbone is registered and the images are larger than 64 px, else knn)."))
    var model: String?

    /// The family when neither --model nor family options are given and no backbone suits the data.
    static let classicDefault = "knn"

    @Option(name: .shortAndLong, help: "Where to save the model.")
    var output = "model.percept"

    @Option(help: "Fraction of the training images held out for validation when DATA has no validation split.")
    var validation = StandardSplit.validationFraction

    @Option(help: "Seed for the splits and every random choice of training.")
    var seed: UInt64 = 0

    @OptionGroup var loading: LoadingOptions

    @OptionGroup var distributedOptions: DistributedOptions

    @Flag(help: "Print the summary as JSON on stdout.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors (and --json output).")
    var quiet = false

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("DATA, the labelled images, and the family's options.",
                                                            valueName: "data-and-options"))
    var dataAndOptions: [String] = []

    /// DATA (the first word that is not an option or an option's value) and the family's settings.
    func parsedArguments() throws -> (data: String, family: any ModelFamily.Type, settings: ModelSettings) {
        let family: any ModelFamily.Type
        do { family = try ModelRegistry.family(named: model ?? Self.classicDefault) } catch let error as PerceptError {
            throw ValidationError(error.reason)
        }
        do {
            let (positionals, pairs) = try ModelSettings.words(dataAndOptions, parameters: family.parameters)
            guard let data = positionals.first else {
                throw ValidationError("missing DATA: the labelled images to train on (see percept train --help)")
            }
            guard positionals.count == 1 else {
                throw ValidationError("unexpected argument '\(positionals[1])': train takes one DATA path")
            }
            return (data, family, try family.settings(Dictionary(pairs) { $1 }))
        } catch let error as PerceptError {
            throw ValidationError(error.reason)
        }
    }

    func validate() throws {
        _ = try parsedArguments()
        guard validation > 0, validation < 1 else {
            throw ValidationError("--validation must lie strictly between 0 and 1 (got \(validation)), e.g. 0.1")
        }
    }

    func run() throws {
        let communicator = try distributedOptions.communicator()
        Terminal.quiet = quiet || json
        let start = DispatchTime.now()
        var (data, family, settings) = try parsedArguments()
        var loading = self.loading
        var loaded: LoadResult
        if model == nil, settings.values.isEmpty, (try? BackboneStore().list().first) != nil {
            // Photos go to a pretrained backbone when one is registered (as Create ML does, but said aloud).
            loading.resize = loading.resize ?? .centerCrop
            loaded = try loading.load(data, defaultSize: TransferFamily.defaultInputSize)
            if let backbone = TransferFamily.suitsByDefault(imageSize: loaded.dataset.imageSize) {
                family = TransferFamily.self
                settings = try TransferFamily.settings(["backbone": backbone])
                // Said even with --json (stderr), as a choice made for the user should be; -q silences it.
                if !quiet, communicator.isRoot { FileHandle.standardError.write(Data("using transfer learning with backbone \(backbone); --model to choose\n".utf8)) }
            } else {
                loading.resize = self.loading.resize
                loaded = try loading.load(data, defaultSize: family.defaultInputSize)
            }
        } else {
            if family == TransferFamily.self { loading.resize = loading.resize ?? .centerCrop }
            loaded = try loading.load(data, defaultSize: family.defaultInputSize)
        }
        reportProblems(loaded.problems, notes: loaded.notes)
        let inspection = DatasetInspection(source: data, result: loaded, modelInput: nil)
        for line in inspection.warnings.summarized() { Terminal.warning(line) }
        let (splits, notes) = try loaded.dataset.standardSplits(seed: seed, validationFraction: validation)
        for note in notes { Terminal.info("note: \(note)") }
        guard !splits.train.isEmpty else { throw PerceptError.invalidData("the training split is empty", path: data) }
        let recipe = family.recipeName(settings)
        Terminal.info("training \(recipe) on \(splits.train.count) images of \(splits.train.classCount) labels "
                      + "at \(splits.train.width)x\(splits.train.height), validating on \(splits.validation.count)")

        let job = TrainingJob(train: splits.train, validation: splits.validation, seed: seed, threads: loading.threads,
                              communicator: communicator) {
            Terminal.progress($0)
        }
        let trained = try family.train(settings, job)
        Terminal.endProgress()
        // Every rank holds the same model; one writes it and says so.
        guard communicator.isRoot else { return }
        var metadata = [
            "dataset": data, "seed": String(seed), "trainImages": String(splits.train.count),
            "validationImages": String(splits.validation.count), "testImages": String(splits.test.count),
            "trainedAt": ISO8601DateFormatter().string(from: Date()), "trainingSeconds": String(format: "%.3f", trained.seconds),
            "recipe": recipe, "family": family.name, "validationFraction": String(validation),
        ]
        if let accuracy = trained.validationAccuracy { metadata["validationAccuracy"] = String(accuracy) }
        if let history = trained.historyJSON { metadata["history"] = history }
        try ModelFile.write(trained.model, to: output, resizeMode: loading.resizeMode.rawValue, metadata: metadata)
        let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0

        let summary = Summary(model: output, kind: type(of: trained.model).kind, recipe: recipe,
                              classes: splits.train.classNames, trainImages: splits.train.count,
                              validationImages: splits.validation.count, testImages: splits.test.count,
                              validationAccuracy: trained.validationAccuracy, trainingSeconds: trained.seconds,
                              totalSeconds: Terminal.seconds(since: start), modelBytes: size,
                              inputSize: "\(splits.train.width)x\(splits.train.height)", notes: notes)
        if json { return try Terminal.printJSON(summary) }
        if !quiet {
            print("validation accuracy: \(trained.validationAccuracy.map(percent) ?? "n/a (no validation images)")")
            print("trained in \(String(format: "%.2f", trained.seconds)) s (\(String(format: "%.2f", summary.totalSeconds)) s in all)")
            print("saved \(output) (\(formattedBytes(size)), \(summary.kind), \(summary.classes.count) classes, input \(summary.inputSize))")
        }
    }

    /// The `--json` output (stable: fields are only ever added).
    struct Summary: Codable {
        var model: String
        var kind: String
        var recipe: String
        var classes: [String]
        var trainImages: Int
        var validationImages: Int
        var testImages: Int
        var validationAccuracy: Double?
        var trainingSeconds: Double
        var totalSeconds: Double
        var modelBytes: Int
        var inputSize: String
        var notes: [String]
    }
}

extension DistanceMetric: ExpressibleByArgument {}

/// `text` broken into lines of at most 78 characters, each indented by `indent` spaces
/// (the help text keeps its shape instead of being re-wrapped at column 0).
func wrapped(_ text: String, indent: Int, width: Int = 78) -> String {
    var lines: [String] = [], line = ""
    for word in text.split(separator: " ") {
        if !line.isEmpty, indent + line.count + 1 + word.count > width {
            lines.append(line)
            line = ""
        }
        line += (line.isEmpty ? "" : " ") + word
    }
    if !line.isEmpty { lines.append(line) }
    return lines.map { String(repeating: " ", count: indent) + $0 }.joined(separator: "\n")
}

/// "1.2 MB", "340 KB": sizes for people.
func formattedBytes(_ count: Int) -> String {
    let units = ["B", "KB", "MB", "GB"]
    var value = Double(count), unit = 0
    while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
    return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
}
