import ArgumentParser
import Foundation
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
    var defaults: (lr: String, reg: String) {
        let hog = options.features.lowercased().hasPrefix("hog")
        switch family {
        case .svm: return hog ? ("3e-3,1e-2,3e-2", "1e-4,1e-3,1e-2") : ("3e-4,1e-3,3e-3", "1e-4,1e-3,1e-2")
        case .softmax: return hog ? ("1e-2,3e-2,1e-1", "1e-4,1e-3,1e-2") : ("3e-3,1e-2,3e-2", "1e-4,1e-3,1e-2")
        case .twoLayerNet: return hog ? ("1e-2,3e-2,1e-1", "1e-4,1e-3") : ("3e-3,1e-2", "1e-4,1e-3")
        }
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

    /// A fitted model of either family.
    enum Fitted {
        case linear(LinearClassifier)
        case net(TwoLayerNet)
        var history: TrainingHistory {
            switch self { case .linear(let m): m.history; case .net(let m): m.history }
        }
    }

    /// (learning rate, regularisation, hidden) for every trial: the grid, or seeded log-uniform samples.
    func settings() throws -> [(Float, Float, Int?)] {
        let rates = try options.values(options.lr, name: "--lr", fallback: defaults.lr)
        let strengths = try options.values(options.reg, name: "--reg", fallback: defaults.reg)
        let sizes: [Int?] = family == .twoLayerNet ? hidden : [nil]
        if options.search == "grid" {
            return rates.flatMap { lr in strengths.flatMap { reg in sizes.map { (lr, reg, $0) } } }
        }
        var random = SeededRandom.stream(seed: options.seed, index: 0x7E57)
        func logUniform(_ values: [Float]) -> Float {
            let low = Double(values.min() ?? 0), high = Double(values.max() ?? 0)
            guard low > 0, high > low else { return Float(high) }
            return Float(exp(log(low) + (log(high) - log(low)) * random.nextUnitDouble()))
        }
        return (0..<options.trials).map { _ in
            (logUniform(rates), logUniform(strengths), sizes[Int(random.next() % UInt64(sizes.count))])
        }
    }

    func run() throws {
        Terminal.quiet = options.json
        let start = DispatchTime.now()
        let loaded = try options.loading.load(options.path)
        reportProblems(loaded.problems, notes: loaded.notes)
        let (train, validation) = try splitData(loaded.dataset)
        let features = try ImageFeatures(name: options.features)
        let preprocessing = options.preprocessing.flatMap(Preprocessing.init(rawValue:))
            ?? (features.isPixels ? .meanImage : .featureStandardization)
        Terminal.info("tuning \(family.rawValue) on \(train.count) training and \(validation.count) validation images, "
                      + "\(features.name) features, \(preprocessing.rawValue)")
        Terminal.progress("extracting \(features.name) features …")
        let prepared = try PreparedData.training(train, features: features, preprocessing: preprocessing, seed: options.seed,
                                                 threads: options.loading.threads)
        let held = try PreparedData.applying(prepared.pipeline, to: validation, threads: options.loading.threads)
        Terminal.endProgress()

        var trials: [Trial] = [], best: (trial: Trial, model: Fitted)?
        let settings = try settings()
        for (index, (lr, reg, size)) in settings.enumerated() {
            Terminal.progress("setting \(index + 1)/\(settings.count): lr \(lr), reg \(reg)" + (size.map { ", hidden \($0)" } ?? ""))
            let trialStart = DispatchTime.now()
            let sgd = SGDOptions(learningRate: lr, regularization: reg, momentum: options.momentum,
                                 learningRateDecay: options.decay, batchSize: options.batch, epochs: options.epochs,
                                 seed: options.seed, threads: options.loading.threads)
            var trial = Trial(learningRate: lr, regularization: reg, hidden: size, epochs: 0, seconds: 0)
            do {
                let fitted: Fitted
                switch family {
                case .svm, .softmax:
                    var model = LinearClassifier(loss: family == .svm ? .hinge : .softmax, features: features,
                                                 preprocessing: preprocessing, options: sgd)
                    try model.fit(prepared, validation: held)
                    fitted = .linear(model)
                case .twoLayerNet:
                    var model = TwoLayerNet(hiddenSize: size ?? 100, features: features, preprocessing: preprocessing, options: sgd)
                    try model.fit(prepared, validation: held)
                    fitted = .net(model)
                }
                trial.trainAccuracy = fitted.history.trainAccuracies.last
                trial.validationAccuracy = fitted.history.validationAccuracies.last
                trial.epochs = fitted.history.epochLosses.count
                if (trial.validationAccuracy ?? -1) > (best?.trial.validationAccuracy ?? -1) { best = (trial, fitted) }
            } catch let error as PerceptError where error.kind == .invalidArgument {
                trial.failure = error.reason
            }
            trial.seconds = Terminal.seconds(since: trialStart)
            if best?.trial.learningRate == lr && best?.trial.regularization == reg && best?.trial.hidden == size {
                best?.trial.seconds = trial.seconds
            }
            trials.append(trial)
        }
        Terminal.endProgress()

        let files = try writePictures(trials: trials, best: best)
        var saved: String?
        if let save = options.save, let best {
            let metadata = ["dataset": options.path, "seed": String(options.seed), "trainImages": String(train.count),
                            "recipe": "\(family.rawValue) (tuned over \(trials.count) settings, \(features.name))",
                            "validationAccuracy": String(best.trial.validationAccuracy ?? 0),
                            "trainedAt": ISO8601DateFormatter().string(from: Date())]
            switch best.model {
            case .linear(let model): try ModelFile.write(model, to: save, resizeMode: options.loading.resize.rawValue, metadata: metadata)
            case .net(let model): try ModelFile.write(model, to: save, resizeMode: options.loading.resize.rawValue, metadata: metadata)
            }
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
