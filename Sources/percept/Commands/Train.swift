import ArgumentParser
import Foundation
import Percept
import PerceptModelKit

/// `percept train`: the AutoML step — point at labelled images, get a saved, validated model.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a model on a dataset and save it to a .percept file.",
        discussion: """
            DATA is any dataset form: a folder with one subfolder per label, train/ val/ test/ folders,
            a CSV manifest, CIFAR binaries, a .pack, or an archive of these. Items without a split are
            divided 80/10/10 (seeded); without a validation split, part of the training images is held
            out. The model is fitted on the training split and measured on validation; the test split is
            left for `percept evaluate`.

            Examples:
              percept train ~/photos --model knn --k 5 --metric l1 -o photos.percept
              percept train cifar10.pack --model ncm -o baseline.percept --json
              percept train cifar10.pack --model softmax --lr 1e-2 --reg 1e-3 --epochs 14 -o softmax.percept
              percept train cifar10.pack --model mlp --features hog-color --hidden 500 --lr 3e-2 -o mlp.percept
              percept train cifar10.pack --model cnn --arch resnet20 --epochs 30 --checkpoint run.ckpt -o cnn.percept
              percept train photos/ --model cnn --arch my-net.json --resume --checkpoint run.ckpt
            """)

    enum Family: String, ExpressibleByArgument, CaseIterable {
        case knn, ncm, svm, softmax, mlp, cnn
    }

    @Argument(help: "The labelled images.")
    var data: String

    @Option(help: "Model family: \(Family.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: Family = .knn

    @Option(name: .shortAndLong, help: "Where to save the model.")
    var output = "model.percept"

    @Option(help: "k-NN: neighbours that vote.")
    var k = 1

    @Option(help: "k-NN: distance metric, l1, l2 or cosine.")
    var metric: DistanceMetric = .l2

    @Option(help: "k-NN: how neighbours vote, uniform or distance (nearer votes count more).")
    var weighting: KNearestNeighbors.Weighting = .uniform

    @Option(help: "svm/softmax/mlp/cnn: learning rate (default: one suited to the family and features).")
    var lr: Double?

    @Option(help: "svm/softmax/mlp: L2 regularisation strength; cnn: weight decay.")
    var reg: Double?

    @Option(help: "svm/softmax/mlp/cnn: passes over the training images.")
    var epochs: Int?

    @Option(help: "svm/softmax/mlp/cnn: images per minibatch.")
    var batch: Int?

    @Option(help: "svm/softmax/mlp: input features, pixels or hog-color.")
    var features = "pixels"

    @Option(help: "mlp: hidden units.")
    var hidden = 500

    @Option(help: "cnn: a built-in architecture (airbench94, resnet20, tiny) or a JSON architecture file.")
    var arch = "tiny"

    @Option(help: "cnn: checkpoint file, written atomically after every epoch.")
    var checkpoint: String?

    @Flag(help: "cnn: continue from --checkpoint if it exists.")
    var resume = false

    @Flag(help: "cnn: average the scores of each image and its mirror image at prediction.")
    var testTimeFlip = false

    @Option(help: "cnn: test-time augmentation: none, flip, or flip-translate (mirror and 1-pixel shifts; airbench94's default).")
    var tta: String?

    @Option(help: "Fraction of the training images held out for validation when DATA has no validation split.")
    var validation = 0.1

    @Option(help: "Seed for the splits and every random choice of training.")
    var seed: UInt64 = 0

    @OptionGroup var loading: LoadingOptions

    @Flag(help: "Print the summary as JSON on stdout.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print nothing but errors (and --json output).")
    var quiet = false

    func validate() throws {
        guard k >= 1 else { throw ValidationError("--k must be at least 1 (got \(k))") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number (got \(lr))") }
        if let reg, !(reg >= 0 && reg.isFinite) { throw ValidationError("--reg must be zero or positive (got \(reg))") }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1 (got \(epochs))") }
        if let batch, batch < 1 { throw ValidationError("--batch must be at least 1 (got \(batch))") }
        guard hidden >= 1 else { throw ValidationError("--hidden must be at least 1 (got \(hidden))") }
        if resume && checkpoint == nil { throw ValidationError("--resume needs --checkpoint FILE") }
        guard validation > 0, validation < 1 else {
            throw ValidationError("--validation must lie strictly between 0 and 1 (got \(validation)), e.g. 0.1")
        }
    }

    func recipe(trainingImages: Int) throws -> ModelRecipe {
        let featureSet = try ImageFeatures(name: features)
        let onPixels = featureSet.isPixels
        // Defaults measured on CIFAR-10 (Benchmarks/RESULTS.md, issue 4).
        func sgd(_ rate: Double, _ strength: Double, decay: Float, epochs defaultEpochs: Int) -> SGDOptions {
            SGDOptions(learningRate: Float(lr ?? rate), regularization: Float(reg ?? strength), learningRateDecay: decay,
                       batchSize: batch ?? 200, epochs: epochs ?? defaultEpochs, seed: seed, threads: loading.threads)
        }
        switch model {
        case .knn: return .kNearestNeighbors(k: k, metric: metric, weighting: weighting)
        case .ncm: return .nearestClassMean
        case .svm:
            return .linear(loss: .hinge, features: featureSet, preprocessing: onPixels ? .meanImage : .featureStandardization,
                           options: sgd(onPixels ? 1e-3 : 1e-2, onPixels ? 1e-4 : 1e-3, decay: onPixels ? 0.8 : 0.9, epochs: 14))
        case .softmax:
            return .linear(loss: .softmax, features: featureSet, preprocessing: onPixels ? .meanImage : .featureStandardization,
                           options: sgd(onPixels ? 1e-2 : 3e-2, 1e-3, decay: onPixels ? 0.8 : 0.9, epochs: 14))
        case .mlp:
            return .twoLayerNet(hiddenSize: hidden, features: featureSet,
                                preprocessing: onPixels ? .channelStandardization : .featureStandardization,
                                options: sgd(onPixels ? 1e-2 : 3e-2, 1e-3, decay: 0.9, epochs: 10))
        case .cnn:
            let architecture: Architecture
            if let named = Architecture.named(arch) { architecture = named } else { architecture = try Architecture.load(arch) }
            // airbench94 comes with its own recipe (TrainingOptions.airbench94); others start from the defaults.
            // Its batch of 1,024 shrinks for small datasets so that an epoch is still ≥ 8 steps.
            var options = architecture.name == "airbench94"
                ? TrainingOptions.airbench94(epochs: epochs ?? 10,
                                             batchSize: batch ?? TrainingOptions.airbench94BatchSize(trainingImages: trainingImages))
                : TrainingOptions()
            options.seed = seed
            if let threads = loading.threads { options.threads = threads }
            if let epochs { options.epochs = epochs }
            if let batch { options.batchSize = batch }
            if let lr { options.schedule = LearningRateSchedule(peak: lr, shape: options.schedule.shape, warmupSteps: options.schedule.warmupSteps) }
            if let reg { options.weightDecay = Float(reg) }
            options.checkpointPath = checkpoint
            if testTimeFlip { options.testTimeAugmentation = .flip }
            if let tta {
                guard let views = TestTimeAugmentation(rawValue: tta) else {
                    throw ValidationError("--tta must be none, flip or flip-translate, got '\(tta)'")
                }
                options.testTimeAugmentation = views
            }
            return .convNet(architecture: architecture, options: options, resume: resume)
        }
    }

    func run() throws {
        Terminal.quiet = quiet || json
        let start = DispatchTime.now()
        let loaded = try loading.load(data)
        reportProblems(loaded.problems, notes: loaded.notes)
        let inspection = DatasetInspection(source: data, result: loaded, modelInput: nil)
        for line in inspection.warnings.summarized() { Terminal.warning(line) }
        let (splits, notes) = try loaded.dataset.standardSplits(seed: seed, validationFraction: validation)
        for note in notes { Terminal.info("note: \(note)") }
        guard !splits.train.isEmpty else { throw PerceptError.invalidData("the training split is empty", path: data) }
        let recipe = try recipe(trainingImages: splits.train.count)
        Terminal.info("training \(recipe.name) on \(splits.train.count) images of \(splits.train.classCount) labels, "
                      + "validating on \(splits.validation.count)")

        let trained = try Percept.train(recipe, on: splits.train, validation: splits.validation) { line in
            Terminal.progress(line)
        }
        Terminal.endProgress()
        var metadata = [
            "dataset": data, "seed": String(seed), "trainImages": String(splits.train.count),
            "validationImages": String(splits.validation.count), "testImages": String(splits.test.count),
            "trainedAt": ISO8601DateFormatter().string(from: Date()), "trainingSeconds": String(format: "%.3f", trained.seconds),
            "recipe": recipe.name, "validationFraction": String(validation),
        ]
        if let accuracy = trained.validationAccuracy { metadata["validationAccuracy"] = String(accuracy) }
        if let history = trained.historyJSON { metadata["history"] = history }
        try ModelFile.write(trained.model, to: output, resizeMode: loading.resize.rawValue, metadata: metadata)
        let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0

        let summary = Summary(model: output, kind: type(of: trained.model).kind, recipe: recipe.name,
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
extension KNearestNeighbors.Weighting: ExpressibleByArgument {}

/// "1.2 MB", "340 KB": sizes for people.
func formattedBytes(_ count: Int) -> String {
    let units = ["B", "KB", "MB", "GB"]
    var value = Double(count), unit = 0
    while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
    return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
}
