// percept-bench cnn-train: a real training run on a pack (CIFAR-10), validation accuracy against
// wall time as JSON lines — the accuracy-in-wall-time benchmark of Benchmarks/RESULTS.md.
//
//   percept-bench cnn-train PACK [--recipe airbench94] [--arch airbench94] [--epochs 10] [--batch 512]
//        [--lr 0.75] [--momentum 0.85] [--weight-decay 5e-4] [--smoothing 0.2] [--seed 1] [--threads 2]
//        [--time-limit SECONDS] [--checkpoint PATH] [--resume] [--tta none|flip|flip-translate] [--save MODEL]
//        [--validate every|final] [--translate PIXELS] [--cutout PIXELS] [--widths W1,W2,W3]
//        [--weight-decay-scale FACTOR]
//
// Validation: the 5,000 pack items whose index is a multiple of 10 (500 per class on a CIFAR-10
// pack, which lists images class by class), as in the linear benchmark and the PyTorch peer
// (peers/torch_airbench.py); training: the other 45,000. With --recipe airbench94 the options
// are TrainingOptions.airbench94 and only --epochs/--threads/--seed/--time-limit/--tta and the
// augmentation overrides apply.
import Foundation
import PerceptCore
import PerceptData
import PerceptModels
import PerceptNetwork
import PerceptModelKit
import PerceptPreprocessing

func benchCNNTrain(pack: String, options: [String]) throws {
    func value<T: LosslessStringConvertible>(_ name: String, _ fallback: T) -> T {
        optionValue(options, name).flatMap(T.init) ?? fallback
    }
    let processStart = Date()
    let dataset = try PackFile.load(pack)
    let validation = dataset.subset(Array(stride(from: 0, to: dataset.count, by: 10)))
    let train = dataset.subset((0..<dataset.count).filter { $0 % 10 != 0 })
    let archName = optionValue(options, "--arch") ?? "airbench94"
    var architecture = try Architecture.named(archName) ?? Architecture.load(archName)
    // --widths: airbench94's layout at other group widths (airbench95 is 128,384,384), for
    // trading epochs against capacity within a fixed wall time.
    if let list = optionValue(options, "--widths") {
        let widths = list.split(separator: ",").compactMap { Int($0) }
        guard widths.count == 3, widths.allSatisfy({ $0 > 0 }) else {
            throw PerceptError.invalidArgument("--widths takes three positive integers like 96,320,320, got '\(list)'")
        }
        architecture = .airbench94(widths: widths)
    }
    var o: TrainingOptions
    if optionValue(options, "--recipe") == "airbench94" {
        o = TrainingOptions.airbench94(epochs: value("--epochs", 10))
    } else {
        o = TrainingOptions()
        o.epochs = value("--epochs", 10)
        o.batchSize = value("--batch", 512)
        o.momentum = value("--momentum", Float(0.85))
        o.nesterov = true
        o.weightDecay = value("--weight-decay", Float(5e-4))
        o.labelSmoothing = value("--smoothing", Float(0.2))
        o.schedule = LearningRateSchedule(peak: value("--lr", 0.75), shape: .oneCycle(start: 0.2, peakAt: 0.23, final: 0.07))
        o.augmentation = Augmentation(translate: 2, flip: true, cutout: value("--cutout", 0))
    }
    // Augmentation overrides, for recipe variants on longer schedules (airbench96: translate 4, cutout 12).
    if let translate = optionValue(options, "--translate").flatMap(Int.init) { o.augmentation.translate = translate }
    if let cutout = optionValue(options, "--cutout").flatMap(Int.init) { o.augmentation.cutout = cutout }
    // Stronger (or weaker) weight decay than the recipe's, against the memorising seen on long schedules.
    if let text = optionValue(options, "--weight-decay-scale") {
        guard let factor = Float(text), factor >= 0, factor.isFinite else {
            throw PerceptError.invalidArgument("--weight-decay-scale takes a factor ≥ 0, got '\(text)'")
        }
        o.weightDecay *= factor
    }
    if let tta = optionValue(options, "--tta") {
        guard let views = TestTimeAugmentation(rawValue: tta) else {
            throw PerceptError.invalidArgument("--tta must be none, flip or flip-translate")
        }
        o.testTimeAugmentation = views
    }
    o.seed = value("--seed", UInt64(1))
    o.threads = value("--threads", 2)
    o.timeLimit = optionValue(options, "--time-limit").flatMap(Double.init)
    o.checkpointPath = optionValue(options, "--checkpoint")
    emit(["tool": "percept-cnn-train", "event": "start", "arch": architecture.name,
          "widths": optionValue(options, "--widths") ?? "", "train": train.count, "validation": validation.count,
          "epochs": o.epochs, "batch": o.batchSize, "lr": o.schedule.peak, "threads": o.threads,
          "recipe": optionValue(options, "--recipe") ?? "flags", "tta": o.testTimeAugmentation.rawValue,
          "translate": o.augmentation.translate, "cutout": o.augmentation.cutout, "weight_decay": o.weightDecay,
          "load": (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""])
    fflush(nil)  // each line reaches the log as it happens, so a run can be followed
    var lastReport = 0.0
    // --validate final: no validation between epochs (each costs a pass over 5,000 images), only
    // the finished model, with its test-time views.
    let finalOnly = optionValue(options, "--validate") == "final"
    let result = try Trainer(architecture: architecture, options: o).fit(
        train: train, validation: finalOnly ? nil : validation, resume: options.contains("--resume")) { p in
        // Wall time from the process start: loading, whitening and every validation included.
        let now = Date().timeIntervalSince(processStart)
        if let accuracy = p.validationAccuracy {
            emit(["tool": "percept-cnn-train", "event": "epoch", "epoch": p.epoch, "validation_accuracy": accuracy, "train_loss": p.loss,
                  "train_accuracy": p.accuracy, "wall_seconds": now, "images_per_second": p.imagesPerSecond])
            fflush(nil)
        } else if now - lastReport >= 60 {
            lastReport = now
            emit(["event": "progress", "epoch": p.epoch, "step": p.step, "steps": p.stepsPerEpoch, "loss": p.loss,
                  "accuracy": p.accuracy, "lr": p.learningRate, "images_per_second": p.imagesPerSecond,
                  "eta_seconds": p.secondsRemaining, "wall_seconds": now])
            fflush(nil)
        }
    }
    if finalOnly {
        let scores = try result.model.scores(for: validation)
        let predicted = rankClasses(byScores: scores, k: 1).map { $0[0] }
        let accuracy = Double(zip(predicted, validation.labels).filter { $0 == Int($1) }.count) / Double(validation.count)
        emit(["tool": "percept-cnn-train", "event": "epoch", "epoch": result.history.epochs.count,
              "validation_accuracy": accuracy, "wall_seconds": Date().timeIntervalSince(processStart),
              "images_per_second": result.history.epochs.last?.imagesPerSecond ?? 0])
    }
    emit(["tool": "percept-cnn-train", "event": "end", "wall_seconds": Date().timeIntervalSince(processStart),
          "final_validation_accuracy": result.history.epochs.last?.validationAccuracy ?? 0,
          "peak_memory_bytes": result.history.peakMemoryBytes ?? 0])
    if let path = optionValue(options, "--save") {
        try ModelFile.write(result.model.archive(), to: path)
    }
    if let data = try? JSONEncoder().encode(result.history), let text = String(data: data, encoding: .utf8) {
        print(text)
    }
}
