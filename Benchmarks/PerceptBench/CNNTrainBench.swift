// percept-bench cnn-train: a real training run on a pack (CIFAR-10), validation accuracy against
// wall time as JSON lines — the accuracy-in-wall-time benchmark of Benchmarks/RESULTS.md.
//
//   percept-bench cnn-train PACK [--arch airbench94] [--epochs 10] [--batch 512] [--lr 0.75]
//        [--momentum 0.85] [--weight-decay 5e-4] [--smoothing 0.2] [--validation 5000] [--seed 1]
//        [--threads 2] [--time-limit SECONDS] [--checkpoint PATH] [--resume] [--tta]
import Foundation
import PerceptCore
import PerceptData
import PerceptNetwork

func benchCNNTrain(pack: String, options: [String]) throws {
    func value<T: LosslessStringConvertible>(_ name: String, _ fallback: T) -> T {
        optionValue(options, name).flatMap(T.init) ?? fallback
    }
    let dataset = try PackFile.load(pack)
    let validationCount = value("--validation", 5000)
    let seed: UInt64 = value("--seed", 1)
    // Hold out `validationCount` images chosen by a seeded shuffle.
    var random = SeededRandom(seed: seed ^ 0xC1FA_2010)
    let order = Array(0..<dataset.count).shuffled(using: &random)
    let validation = dataset.subset(Array(order.prefix(validationCount)))
    let train = dataset.subset(Array(order.dropFirst(validationCount)))
    let archName = optionValue(options, "--arch") ?? "airbench94"
    let architecture = try Architecture.named(archName) ?? Architecture.load(archName)
    var o = TrainingOptions()
    o.epochs = value("--epochs", 10)
    o.batchSize = value("--batch", 512)
    o.momentum = value("--momentum", Float(0.85))
    o.nesterov = true
    o.weightDecay = value("--weight-decay", Float(5e-4))
    o.labelSmoothing = value("--smoothing", Float(0.2))
    o.schedule = LearningRateSchedule(peak: value("--lr", 0.75), shape: .oneCycle(start: 0.2, peakAt: 0.23, final: 0.07))
    o.augmentation = Augmentation(translate: 2, flip: true, cutout: value("--cutout", 0))
    o.seed = seed
    o.threads = value("--threads", 2)
    o.testTimeFlip = options.contains("--tta")
    o.timeLimit = optionValue(options, "--time-limit").flatMap(Double.init)
    o.checkpointPath = optionValue(options, "--checkpoint")
    emit(["event": "start", "arch": architecture.name, "train": train.count, "validation": validation.count,
          "epochs": o.epochs, "batch": o.batchSize, "lr": o.schedule.peak, "threads": o.threads,
          "load": (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""])
    fflush(nil)  // each line reaches the log as it happens, so a run can be followed
    var lastReport = 0.0
    let start = Date()
    let result = try Trainer(architecture: architecture, options: o).fit(
        train: train, validation: validation, resume: options.contains("--resume")) { p in
        let now = Date().timeIntervalSince(start)
        if let accuracy = p.validationAccuracy {
            emit(["event": "epoch", "epoch": p.epoch, "validation_accuracy": accuracy, "train_loss": p.loss,
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
    if let data = try? JSONEncoder().encode(result.history), let text = String(data: data, encoding: .utf8) {
        print(text)
    }
}
