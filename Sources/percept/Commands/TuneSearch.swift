import ArgumentParser
import Foundation
import Percept

/// `percept tune search`: the library's hyper-parameter search for any registered family. Each
/// family option takes a comma-separated list; options with one value stay fixed.
struct TuneSearch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search any model family's options on a validation split (grid or random); save the best.",
        usage: "percept tune search DATA --model FAMILY [--OPTION v1,v2,…]… [options]",
        discussion: """
            Every combination of the listed values (--search grid) or --trials seeded samples (--search
            random: real numbers log-uniformly between the smallest and largest listed, other options one
            of the listed values) is fitted on the training images and measured on validation images,
            divided as `percept train` divides them; the test split is never looked at. The family's options
            are those `percept train --help` lists. Without any option given several values, the family's
            default search runs (knn: k × metric; svm, softmax, mlp: learning rate × regularisation).

            Examples:
              percept tune search cifar10.pack --model cnn --arch tiny,resnet20 --epochs 5 --lr 0.05,0.1
              percept tune search photos/ --model knn --k 1,3,5,9 --metric l1,l2 --save best.percept
              percept tune search cifar10.pack --model softmax --lr 1e-3,1e-1 --reg 1e-4,1e-2 --search random --trials 8
            """)

    @Option(help: "Model family: \(ModelRegistry.names.joined(separator: ", ")).")
    var model = "knn"

    @Option(help: "grid (every combination) or random (seeded samples).")
    var search = "grid"

    @Option(help: "Settings to sample with --search random.")
    var trials = 10

    @Option(help: "Fraction of the training images held out for validation when DATA has no validation split.")
    var validation = StandardSplit.validationFraction

    @Option(help: "Seed for the splits, the samples and training.")
    var seed: UInt64 = 0

    @Option(help: "Save the best setting's model to this file (.percept).")
    var save: String?

    @OptionGroup var loading: LoadingOptions

    @Flag(help: "Print the result as JSON on stdout.")
    var json = false

    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("DATA, then the family's options with comma-separated values.",
                                                            valueName: "data-and-options"))
    var dataAndOptions: [String] = []

    /// DATA and the search the words describe.
    func plan() throws -> (data: String, search: HyperparameterSearch) {
        let family: any ModelFamily.Type
        do { family = try ModelRegistry.family(named: model) } catch let error as PerceptError {
            throw ValidationError(error.reason)
        }
        guard search == "grid" || search == "random" else { throw ValidationError("--search takes grid or random (got \(search))") }
        guard trials >= 1 else { throw ValidationError("--trials must be at least 1 (got \(trials))") }
        var candidates: [(name: String, values: [String])] = [], fixed: [String: String] = [:]
        let positionals: [String]
        do {
            let words = try ModelSettings.words(dataAndOptions, parameters: family.parameters)
            positionals = words.positionals
            for (name, text) in words.pairs {
                guard family.parameters.contains(where: { $0.name == name }) else {
                    throw ValidationError("--\(name) is not an option of \(family.name) (it takes "
                                          + family.parameters.map { "--\($0.name)" }.joined(separator: ", ") + ")")
                }
                let values = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                if values.count == 1 { fixed[name] = values[0] } else { candidates.append((name, values)) }
            }
        } catch let error as PerceptError {
            throw ValidationError(error.reason)
        }
        guard positionals.count <= 1 else {
            throw ValidationError("unexpected argument '\(positionals[1])': search takes one DATA path")
        }
        let data = positionals.first
        guard let data else { throw ValidationError("missing DATA: the labelled images to tune on") }
        if candidates.isEmpty {
            // No option with several values: the family's own default search, less what was fixed.
            let fixedSettings: ModelSettings
            do { fixedSettings = try family.settings(fixed) } catch let error as PerceptError { throw ValidationError(error.reason) }
            candidates = family.searchSpace(fixedSettings).filter { fixed[$0.name] == nil }
            guard !candidates.isEmpty else {
                throw ValidationError("\(family.name) has no default search: give an option several values, e.g. --lr 0.05,0.1")
            }
        }
        let search = HyperparameterSearch(family: family, candidates: candidates, fixed: fixed,
                                          strategy: search == "grid" ? .grid : .random(trials: trials), seed: seed)
        do { _ = try search.trialValues().map { try family.settings(fixed.merging($0) { $1 }) } } catch let error as PerceptError {
            throw ValidationError(error.reason)
        }
        return (data, search)
    }

    func validate() throws { _ = try plan() }

    func run() throws {
        Terminal.quiet = json
        let start = DispatchTime.now()
        let (data, search) = try plan()
        let loaded = try loading.load(data, defaultSize: search.family.defaultInputSize)
        reportProblems(loaded.problems, notes: loaded.notes)
        let (splits, notes) = try loaded.dataset.standardSplits(seed: seed, validationFraction: validation)
        for note in notes { Terminal.info("note: \(note)") }
        Terminal.info("searching \(search.family.name) on \(splits.train.count) training and \(splits.validation.count) "
                      + "validation images (\(splits.test.count) test images left untouched)")
        let job = TrainingJob(train: splits.train, validation: splits.validation, seed: seed, threads: loading.threads) {
            Terminal.progress($0)
        }
        let result = try search.run(job)
        Terminal.endProgress()
        if let save, let best = result.best {
            let metadata = ["dataset": data, "seed": String(seed), "family": search.family.name,
                            "recipe": "\(search.family.name) (searched over \(result.trials.count) settings)",
                            "trainImages": String(splits.train.count), "validationImages": String(splits.validation.count),
                            "testImages": String(splits.test.count), "validationFraction": String(validation),
                            "validationAccuracy": String(best.trial.validationAccuracy ?? 0),
                            "trainedAt": ISO8601DateFormatter().string(from: Date())]
            try ModelFile.write(best.model.model, to: save, resizeMode: loading.resizeMode.rawValue, metadata: metadata)
        }
        if json {
            return try Terminal.printJSON(Summary(model: search.family.name, fixed: search.fixed, trials: result.trials,
                                                  best: result.best?.trial, saved: result.best == nil ? nil : save,
                                                  seconds: Terminal.seconds(since: start)))
        }
        print(Self.table(result, names: search.candidates.map(\.name)))
        if let best = result.best?.trial {
            print("best: " + best.values.sorted { $0.key < $1.key }.map { "--\($0.key) \($0.value)" }.joined(separator: " ")
                  + ", validation accuracy \(percent(best.validationAccuracy ?? 0))")
            if let save { print("saved the best model to \(save)") }
        } else {
            print("no setting produced a model")
        }
    }

    struct Summary: Codable {
        var model: String
        var fixed: [String: String]
        var trials: [HyperparameterSearch.Trial]
        var best: HyperparameterSearch.Trial?
        var saved: String?
        var seconds: Double
    }

    /// One row per trial, the searched options first; the best row is starred.
    static func table(_ result: HyperparameterSearch.Result, names: [String]) -> String {
        var rows = [names + ["train", "validation", "epochs", "seconds"]]
        for trial in result.trials {
            let star = trial == result.best?.trial ? " *" : ""
            rows.append(names.map { trial.values[$0] ?? "" }
                        + [trial.trainAccuracy.map(percent) ?? "–", trial.validationAccuracy.map(percent) ?? (trial.failure ?? "failed"),
                           String(trial.epochs), String(format: "%.1f", trial.seconds) + star])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { String(repeating: " ", count: max(0, widths[$0] - $1.count)) + $1 }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
