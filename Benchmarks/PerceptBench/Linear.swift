// percept-bench linear PACK [--model svm|softmax|mlp] [--features pixels|hog-color]
//     [--preprocessing mean-image|channel-standardization|feature-standardization]
//     [--lr 1e-3] [--reg 1e-4] [--momentum 0.9] [--decay 0.95] [--batch 200] [--epochs 10]
//     [--iterations N] [--hidden 500] [--target 0.40] [--seed 0] [--threads N]
//
// Trains on the pack's items whose index is not a multiple of 10 (45,000 of CIFAR-10's 50,000)
// and reports accuracy on the others (5,000) — the split the Python peers use. Times feature
// preparation and training separately; --target stops at the first epoch reaching that
// validation accuracy (time to accuracy).
import Foundation
import PerceptCore
import PerceptData
import PerceptModels
import PerceptModelKit
import PerceptPreprocessing

func benchLinear(pack: String, options: [String]) throws {
    func value(_ name: String) -> String? {
        options.firstIndex(of: name).flatMap { $0 + 1 < options.count ? options[$0 + 1] : nil }
    }
    let dataset = try PackFile.load(pack)
    let model = value("--model") ?? "softmax"
    let features = try ImageFeatures(name: value("--features") ?? "pixels")
    let preprocessing = try value("--preprocessing").map {
        guard let p = Preprocessing(rawValue: $0) else { throw PerceptError.invalidArgument("unknown --preprocessing \($0)") }
        return p
    } ?? (features.isPixels ? .meanImage : .featureStandardization)
    var sgd = SGDOptions()
    sgd.learningRate = Float(value("--lr") ?? "") ?? 1e-3
    sgd.regularization = Float(value("--reg") ?? "") ?? 1e-4
    sgd.momentum = Float(value("--momentum") ?? "") ?? 0.9
    sgd.learningRateDecay = Float(value("--decay") ?? "") ?? 0.95
    sgd.batchSize = Int(value("--batch") ?? "") ?? 200
    sgd.epochs = Int(value("--epochs") ?? "") ?? 10
    sgd.iterations = value("--iterations").flatMap { Int($0) }
    sgd.targetValidationAccuracy = value("--target").flatMap { Double($0) }
    sgd.seed = UInt64(value("--seed") ?? "") ?? 0
    sgd.threads = value("--threads").flatMap { Int($0) }
    let hidden = Int(value("--hidden") ?? "") ?? 500

    let all = Array(0..<dataset.count)
    let train = dataset.subset(all.filter { $0 % 10 != 0 }), validation = dataset.subset(all.filter { $0 % 10 == 0 })
    var prepared: PreparedData?, held: PreparedData?
    let prepare = try seconds {
        prepared = try PreparedData.training(train, features: features, preprocessing: preprocessing, seed: sgd.seed,
                                             threads: sgd.threads)
        held = try PreparedData.applying(prepared!.pipeline, to: validation, threads: sgd.threads)
    }
    guard let prepared, let held else { return }
    var history = TrainingHistory()
    let cpuStart = processCPUSeconds()
    let fit = try seconds {
        switch model {
        case "svm", "hinge", "linear":
            var classifier = LinearClassifier(loss: .hinge, features: features, preprocessing: preprocessing, options: sgd)
            history = try classifier.fit(prepared, validation: held)
        case "softmax":
            var classifier = LinearClassifier(loss: .softmax, features: features, preprocessing: preprocessing, options: sgd)
            history = try classifier.fit(prepared, validation: held)
        case "mlp", "two-layer-net":
            var net = TwoLayerNet(hiddenSize: hidden, features: features, preprocessing: preprocessing, options: sgd)
            history = try net.fit(prepared, validation: held)
        default: throw PerceptError.invalidArgument("--model takes svm, softmax or mlp, got \(model)")
        }
    }
    let cpu = processCPUSeconds() - cpuStart
    // The per-epoch accuracy passes are part of `fit`; a pure training time would be a little lower.
    emit(["tool": "percept-linear-\(model)-\(features.name)", "train": train.count, "validation": validation.count,
          "dim": prepared.features.columns, "iterations": history.iterations, "epochs": history.epochLosses.count,
          "prepare_seconds": prepare, "seconds": fit, "cpu_seconds": cpu, "val_accuracy": history.validationAccuracies.last ?? 0,
          "best_val_accuracy": history.validationAccuracies.max() ?? 0, "val_by_epoch": history.validationAccuracies,
          "final_loss": history.epochLosses.last ?? 0, "lr": Double(sgd.learningRate), "reg": Double(sgd.regularization),
          "threads": sgd.threads ?? Parallel.defaultThreadCount])
}

/// CPU time this process has used, all threads (robust to other load on a shared machine).
func processCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}
