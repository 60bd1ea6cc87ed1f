import ArgumentParser
import Foundation
import Percept
import PerceptCore
import PerceptData
import PerceptModels
import PerceptReports
import PerceptModelKit

/// The search behind `percept tune linear|softmax|mlp`: prepare the features once, fit one model
/// per setting, then write the table, the validation heatmap, the best setting's curves (and
/// templates for linear models on pixels), and optionally save the best model.
struct LinearTuning {
    enum Family: String, Codable {
        case svm = "linear", softmax, twoLayerNet = "mlp"
    }

    let options: LinearTuningOptions
    let family: Family
    let hidden: [Int]

    static func discussion(_ name: String, extra: String = "") -> String {
        """
        Fits one model per setting on the training images and measures it on held-out validation
        images (never the test split). Writes to --output: \(name)-tuning.svg/.png (validation accuracy
        over learning rate × regularisation), \(name)-loss.svg/.png and \(name)-accuracy.svg/.png (the
        best setting's loss curve and train/validation accuracy per epoch)\(name == "mlp" ? "" : ", and \(name)-templates.png (one learned template per class; pixel features only)").
        A setting whose loss becomes NaN or infinite is reported as diverged and skipped.

        Examples:
          percept tune \(name) cifar10.pack --lr 1e-3,1e-2 --reg 1e-4,1e-3\(extra) -o tuning/
          percept tune \(name) cifar10.pack --features hog-color --search random --trials 8 --save best.percept
          percept tune \(name) ~/photos --size 32x32 --validation 0.2 --epochs 5 --json
        """
    }

    /// Learning rates and strengths that work on CIFAR-10 with the default preprocessing.
    /// The family's default search space for these features: comma-separated lr and reg lists.
    var defaults: (lr: String, reg: String) {
        let fixed = (try? registered.settings(["features": options.features])) ?? (try? registered.settings())
        let space = fixed.map { registered.searchSpace($0) } ?? []
        func list(_ name: String) -> String { space.first { $0.name == name }?.values.joined(separator: ",") ?? "" }
        return (list("lr"), list("reg"))
    }

    struct Trial: Codable {
        var learningRate: Float
        var regularization: Float
        var hidden: Int?
        var trainAccuracy: Double?
        var validationAccuracy: Double?
        var epochs: Int
        var seconds: Double
        /// Why the setting failed (divergence), if it did.
        var failure: String?
    }

    struct Summary: Codable {
        var model: String
        var features: String
        var preprocessing: String
        var trainImages: Int
        var validationImages: Int
        var trials: [Trial]
        var best: Trial?
        var files: [String]
        var saved: String?
        var seconds: Double
    }

    /// The registered family this command tunes.
    var registered: any ModelFamily.Type {
        switch family {
        case .svm: SupportVectorMachineFamily.self
        case .softmax: SoftmaxFamily.self
        case .twoLayerNet: TwoLayerNetFamily.self
        }
    }

    /// The library's search over learning rate × regularisation (× hidden size for mlp).
    func search(preprocessing: Preprocessing) throws -> HyperparameterSearch {
        let rates = try options.values(options.lr, name: "--lr", fallback: defaults.lr)
        let strengths = try options.values(options.reg, name: "--reg", fallback: defaults.reg)
        var candidates = [(name: "lr", values: rates.map { String($0) }), (name: "reg", values: strengths.map { String($0) })]
        if family == .twoLayerNet { candidates.append((name: "hidden", values: hidden.map(String.init))) }
        let fixed = ["features": options.features, "preprocessing": preprocessing.rawValue, "epochs": String(options.epochs),
                     "batch": String(options.batch), "momentum": String(options.momentum), "decay": String(options.decay)]
        return HyperparameterSearch(family: registered, candidates: candidates, fixed: fixed,
                                    strategy: options.search == "grid" ? .grid : .random(trials: options.trials), seed: options.seed)
    }

    func run() throws {
        Terminal.quiet = options.json
        let start = DispatchTime.now()
        let loaded = try options.loading.load(options.path, defaultSize: registered.defaultInputSize)
        reportProblems(loaded.problems, notes: loaded.notes)
        let (train, validation) = try splitData(loaded.dataset)
        let features = try ImageFeatures(name: options.features)
        let preprocessing = options.preprocessing.flatMap(Preprocessing.init(rawValue:))
            ?? (features.isPixels ? .meanImage : .featureStandardization)
        Terminal.info("tuning \(family.rawValue) on \(train.count) training and \(validation.count) validation images, "
                      + "\(features.name) features, \(preprocessing.rawValue)")
        let job = TrainingJob(train: train, validation: validation, seed: options.seed, threads: options.loading.threads) {
            Terminal.progress($0)
        }
        let result = try search(preprocessing: preprocessing).run(job)
        Terminal.endProgress()
        let trials = result.trials.map(Trial.init)
        let best = result.best.map { (trial: Trial($0.trial), model: $0.model) }

        let files = try writePictures(trials: trials, best: best)
        var saved: String?
        if let save = options.save, let best {
            let metadata = ["dataset": options.path, "seed": String(options.seed), "trainImages": String(train.count),
                            "recipe": "\(family.rawValue) (tuned over \(trials.count) settings, \(features.name))",
                            "family": registered.name, "validationAccuracy": String(best.trial.validationAccuracy ?? 0),
                            "trainedAt": ISO8601DateFormatter().string(from: Date())]
            try ModelFile.write(best.model.model, to: save, resizeMode: options.loading.resizeMode.rawValue, metadata: metadata)
            saved = save
        }
        let summary = Summary(model: family.rawValue, features: features.name, preprocessing: preprocessing.rawValue,
                              trainImages: train.count, validationImages: validation.count, trials: trials, best: best?.trial,
                              files: files, saved: saved, seconds: Terminal.seconds(since: start))
        if options.json { return try Terminal.printJSON(summary) }
        print(table(trials, best: best?.trial))
        if let best = best?.trial {
            print("best: lr \(best.learningRate), reg \(best.regularization)" + (best.hidden.map { ", hidden \($0)" } ?? "")
                  + ", validation accuracy \(percent(best.validationAccuracy ?? 0))")
        } else {
            print("every setting diverged: try smaller learning rates")
        }
        if let saved { print("saved the best model to \(saved)") }
        print("wrote \(files.joined(separator: ", ")) in \(String(format: "%.1f", summary.seconds)) s")
    }
}

extension LinearTuning.Trial {
    /// The `--json` row of a library trial (fields as before the search moved into the library).
    init(_ trial: HyperparameterSearch.Trial) {
        self.init(learningRate: Float(trial.values["lr"] ?? "") ?? 0, regularization: Float(trial.values["reg"] ?? "") ?? 0,
                  hidden: trial.values["hidden"].flatMap { Int($0) }, trainAccuracy: trial.trainAccuracy,
                  validationAccuracy: trial.validationAccuracy, epochs: trial.epochs, seconds: trial.seconds,
                  failure: trial.failure)
    }
}
