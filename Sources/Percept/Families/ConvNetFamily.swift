import Foundation
import PerceptCore
import PerceptData
import PerceptImage
import PerceptModelKit
import PerceptNetwork

/// `--model cnn`: a convolutional network trained by Percept's own engine.
public enum ConvNetFamily: ModelFamily {
    public static let name = "cnn"
    public static let summary = "convolutional network on Percept's CNN engine: "
        + Architecture.builtInNames.joined(separator: ", ") + " or a JSON architecture"
    public static let parameters = [
        ModelParameter("arch", .text, default: "tiny",
                       help: "a built-in architecture (\(Architecture.builtInNames.joined(separator: ", "))) or a JSON architecture file"),
        ModelParameter("lr", .number(allowsZero: false), help: "peak learning rate of the schedule (default: the architecture's recipe)"),
        ModelParameter("reg", .number(allowsZero: true), help: "weight decay (default: the architecture's recipe)"),
        ModelParameter("epochs", .integer(minimum: 1), default: "10", help: "passes over the training images"),
        ModelParameter("time-limit", .number(allowsZero: false),
                       help: "stop training after this many seconds (the epoch under way is cut short, validated and kept); "
                           + "a budget instead of, or on top of, --epochs"),
        ModelParameter("batch", .integer(minimum: 1), help: "images per minibatch (default 256, airbench94 1,024; halved down to 32 until an epoch has ≥ 8 steps)"),
        ModelParameter("checkpoint", .text, help: "checkpoint file, written atomically after every epoch"),
        ModelParameter("resume", .flag, help: "continue from --checkpoint if it exists"),
        ModelParameter("tta", .choice(TestTimeAugmentation.allCases.map(\.rawValue)),
                       help: "test-time augmentation: none, flip, or flip-translate (mirror and 1-pixel shifts; airbench94's default)"),
        ModelParameter("test-time-flip", .flag, help: "the same as --tta flip (kept for older scripts)"),
    ]
    public static let modelTypes: [any ArchivableModel.Type] = [ConvNetClassifier.self]
    /// Photos keep more detail than the 32×32 of the classic families; CIFAR-sized data keeps its own size.
    public static let defaultInputSize = ImageSize(width: 64, height: 64)

    public static func recipeName(_ settings: ModelSettings) -> String {
        let arch = settings.text("arch") ?? "tiny"
        return "cnn (\(Architecture.named(arch)?.name ?? (arch as NSString).lastPathComponent))"
    }

    /// The architecture and the training options the settings describe.
    public static func plan(_ settings: ModelSettings, trainingImages: Int, seed: UInt64,
                            threads: Int?) throws -> (Architecture, TrainingOptions) {
        let arch = settings.text("arch") ?? "tiny"
        let architecture = try Architecture.named(arch) ?? Architecture.load(arch)
        let epochs = settings.integer("epochs")
        let batch = settings.integer("batch")
        // airbench94 comes with its own recipe; other architectures start from the engine's defaults.
        var options = architecture.name == "airbench94"
            ? TrainingOptions.airbench94(epochs: epochs ?? 10,
                                         batchSize: batch ?? TrainingOptions.airbench94BatchSize(trainingImages: trainingImages))
            : TrainingOptions()
        options.seed = seed
        if let threads { options.threads = threads }
        if let epochs { options.epochs = epochs }
        // Small datasets get smaller batches (≥ 8 steps an epoch): memory follows the batch.
        options.batchSize = batch ?? (architecture.name == "airbench94" ? options.batchSize
                                      : TrainingOptions.batchSize(trainingImages: trainingImages))
        if let learningRate = settings.number("lr") {
            options.schedule = LearningRateSchedule(peak: learningRate, shape: options.schedule.shape,
                                                    warmupSteps: options.schedule.warmupSteps)
        }
        if let decay = settings.number("reg") { options.weightDecay = Float(decay) }
        options.checkpointPath = settings.text("checkpoint")
        options.timeLimit = settings.number("time-limit")
        if settings.flag("test-time-flip") { options.testTimeAugmentation = .flip }
        if let views = settings.text("tta").flatMap(TestTimeAugmentation.init(rawValue:)) { options.testTimeAugmentation = views }
        return (architecture, options)
    }

    public static func fit(_ settings: ModelSettings, _ job: TrainingJob) throws -> FittedModel {
        if settings.flag("resume") && settings.text("checkpoint") == nil {
            throw PerceptError.invalidArgument("--resume needs --checkpoint FILE")
        }
        let (architecture, options) = try plan(settings, trainingImages: job.train.count, seed: job.seed, threads: job.threads)
        let result = try Trainer(architecture: architecture, options: options, communicator: job.communicator)
            .fit(train: job.train, validation: job.validation, resume: settings.flag("resume")) { step in
                try job.progress(String(format: "epoch %d/%d step %d/%d  loss %.3f  acc %.1f%%  %.0f img/s  ETA %.0f s",
                                        step.epoch, step.epochs, step.step, step.stepsPerEpoch, step.loss,
                                        step.accuracy * 100, step.imagesPerSecond, step.secondsRemaining)
                                 + (step.validationAccuracy.map { String(format: "  val %.1f%%", $0 * 100) } ?? ""))
            }
        return FittedModel(model: result.model, history: result.history)
    }

    public static func figures(for saved: SavedModel, evaluatedOn images: Dataset?) throws -> [ReportFigure] {
        TrainingCurves.againstWallTime(saved)
    }
}
