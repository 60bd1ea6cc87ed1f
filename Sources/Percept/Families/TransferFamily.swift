import Foundation
import PerceptCore
import PerceptData
import PerceptDistributed
import PerceptImage
import PerceptModelKit
import PerceptReports

/// `--model transfer`: a pretrained backbone's features, frozen and cached, with a softmax (or
/// small MLP) head trained on top — what AutoML Vision and Create ML do with a few hundred photos.
///
/// `--fine-tune N` then trains the backbone's last N blocks with the head on augmented views
/// (`TransferFineTuning`), and the model keeps the tuned graph.
public enum TransferFamily: ModelFamily {
    public static let name = "transfer"
    public static let summary = "transfer learning: a pretrained backbone's frozen features (cached on disk) "
        + "with a softmax or MLP head; register backbones with `percept backbone add`"
    public static let parameters = [
        ModelParameter("backbone", .text,
                       help: "a registered backbone name, an .onnx file, or random-features (the untrained baseline); "
                           + "default: the first registered backbone"),
        ModelParameter("head", .choice(ClassifierHead.Kind.allCases.map(\.rawValue)), default: "softmax",
                       help: "the classifier on the features: softmax (logistic regression) or mlp (one hidden ReLU layer)"),
        ModelParameter("l2", .number(allowsZero: true),
                       help: "L2 strength of the head (default: chosen on the validation split from 1 … 1e-5)"),
        ModelParameter("epochs", .integer(minimum: 1), default: "200",
                       help: "L-BFGS iterations per L2 strength (each a pass over the cached features)"),
        ModelParameter("hidden", .integer(minimum: 1), default: "256", help: "hidden units of the mlp head"),
        ModelParameter("feature-node", .text,
                       help: "the graph value used as features (default: the input of the final Gemm/MatMul)"),
        ModelParameter("fine-tune", .integer(minimum: 0), default: "0",
                       help: "also train the backbone's last N blocks with the head, on augmented views (0: frozen)"),
        ModelParameter("fine-tune-epochs", .integer(minimum: 1), default: "15", help: "epochs of fine-tuning"),
        ModelParameter("fine-tune-lr", .number(allowsZero: false), default: "0.003",
                       help: "peak learning rate of fine-tuning (one-cycle, SGD with Nesterov momentum)"),
        ModelParameter("feature-cache", .text,
                       help: "folder of cached features (default: ~/.cache/percept/features, or $PERCEPT_CACHE/features); "
                           + "none computes them afresh"),
    ]
    public static let modelTypes: [any ArchivableModel.Type] = [TransferModel.self]
    /// Photos are decoded at 256² so an ImageNet backbone's "shorter side 256, centre crop 224"
    /// loses nothing; smaller images (CIFAR) keep their size and are enlarged by the backbone's spec.
    public static let defaultInputSize = ImageSize(width: 256, height: 256)

    public static func recipeName(_ settings: ModelSettings) -> String {
        let backbone = settings.text("backbone").map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension }
        return "transfer (\(backbone ?? "default backbone"), \(settings.text("head") ?? "softmax"))"
    }

    /// The backbone `--backbone` names, or the first registered one.
    public static func backbone(_ settings: ModelSettings, seed: UInt64, threads: Int?) throws -> Backbone {
        let store = BackboneStore()
        let name: String
        if let given = settings.text("backbone") {
            name = given
        } else {
            guard let first = try store.list().first else {
                throw PerceptError.invalidArgument("the transfer family needs a backbone and none is registered in "
                    + "\(store.folder): add one with `percept backbone add efficientnet-lite0.onnx --name efficientnet-lite0`, "
                    + "or give --backbone FILE.onnx (or random-features)")
            }
            name = first.name
        }
        return try store.resolve(name, featureNode: settings.text("feature-node"), threads: threads, seed: seed)
    }

    /// Under several ranks (`job.communicator`, `percept train --distributed`) the work is shared
    /// out: each rank extracts (or reads from the cache) the features of its contiguous share of the
    /// training and validation images, the standardisation and every L-BFGS loss and gradient sum
    /// over the ranks (`HeadTrainer`), and fine-tuning splits each batch by the same shares
    /// (`TransferFineTuning`). Every rank ends with the same model; the single process is one rank.
    public static func fit(_ settings: ModelSettings, _ job: TrainingJob) throws -> FittedModel {
        let communicator = job.communicator
        guard job.train.count >= communicator.size else {
            throw PerceptError.invalidArgument("\(communicator.size) ranks need at least as many training images; "
                + "there are \(job.train.count)")
        }
        let backbone = try backbone(settings, seed: job.seed, threads: job.threads)
        let cacheFolder = settings.text("feature-cache")
        let cache = cacheFolder == "none" ? nil : FeatureCache(folder: cacheFolder ?? FeatureCache().folder)
        func features(_ dataset: Dataset, _ split: String) throws -> Tensor {
            guard let cache else { return try backbone.features(of: dataset, threads: job.threads, progress: job.progress) }
            let (features, cached) = try cache.features(of: dataset, through: backbone, threads: job.threads, progress: job.progress)
            if cached { try job.progress("\(split) features of \(dataset.count) images from the cache (\(cache.folder))") }
            return features
        }
        /// This rank's contiguous share of `dataset` (all of it in one process).
        func share(_ dataset: Dataset) -> Dataset {
            communicator.size == 1 ? dataset : dataset.subset(Array(communicator.shard(of: dataset.count)))
        }
        let trainShare = share(job.train)
        let trainFeatures = try features(trainShare, "training")
        let standardization = try FeatureStandardization(fittedOn: trainFeatures, communicator: communicator)
        var validation: (x: [Float], labels: [Int32])?
        if let set = job.validation, !set.isEmpty {
            let mine = share(set)
            validation = (mine.isEmpty ? [] : standardization.apply(try features(mine, "validation")), mine.labels)
        }
        let kind = ClassifierHead.Kind(rawValue: settings.text("head") ?? "softmax") ?? .softmax
        let trainer = HeadTrainer(kind: kind, hidden: settings.integer("hidden") ?? 256,
                                  iterations: settings.integer("epochs") ?? 200, seed: job.seed)
        let result = try trainer.fit(train: standardization.apply(trainFeatures), labels: trainShare.labels,
                                     classes: job.train.classCount, features: trainFeatures.columns,
                                     validation: validation, l2: settings.number("l2").map(Float.init),
                                     communicator: communicator, progress: job.progress)
        if result.trials.count > 1 { try job.progress(String(format: "chose L2 %.0e on the validation split", result.l2)) }
        var (tunedBackbone, tunedStandardization, tunedHead) = (backbone, standardization, result.head)
        var history: TrainingHistory?
        if let blocks = settings.integer("fine-tune"), blocks > 0 {
            var options = FineTuningOptions()
            options.epochs = settings.integer("fine-tune-epochs") ?? options.epochs
            options.learningRate = settings.number("fine-tune-lr").map(Float.init) ?? options.learningRate
            options.seed = job.seed
            let tuned = try TransferFineTuning(blocks: blocks, options: options)
                .run(backbone: backbone, standardization: standardization, head: result.head, job: job)
            (tunedBackbone, tunedStandardization, tunedHead, history) = (tuned.backbone, tuned.standardization, tuned.head,
                                                                         tuned.history)
        }
        let model = TransferModel(backbone: tunedBackbone, standardization: tunedStandardization, head: tunedHead,
                                  classNames: job.train.classNames, l2: result.l2, trials: result.trials,
                                  inputShape: [job.train.height, job.train.width, job.train.channels])
        // The validation predictions: a frozen model's from the cached features (no second backbone
        // pass), a tuned one's through its tuned backbone; each rank predicts its share.
        var predictions: [Int32]?
        if let set = job.validation, !set.isEmpty, let validation {
            let mine: [Int32]
            if history == nil {
                let rows = validation.labels.count
                let scores = Tensor(shape: [rows, tunedHead.classes], scalars: tunedHead.scores(validation.x, rows: rows))
                mine = rows == 0 ? [] : rankClasses(byScores: scores, k: 1).map { Int32($0[0]) }
            } else {
                let local = share(set)
                mine = local.isEmpty ? [] : try model.predict(local)
            }
            predictions = try gathered(mine, communicator)
        }
        return FittedModel(model: model, history: history, validationPredictions: predictions)
    }

    /// Every rank's `values` joined in rank order (contiguous shares give the whole set's order).
    private static func gathered(_ values: [Int32], _ communicator: Communicator) throws -> [Int32] {
        guard communicator.size > 1 else { return values }
        let bytes = values.flatMap { withUnsafeBytes(of: $0.littleEndian) { Array($0) } }
        return try communicator.allgather(bytes).flatMap { part in
            stride(from: 0, to: part.count - 3, by: 4).map { i in
                Int32(littleEndian: part[i..<(i + 4)].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) })
            }
        }
    }

    /// The head's kind: each fit chooses its own L2, and cached features make every trial cheap.
    public static func searchSpace(_ fixed: ModelSettings) -> [(name: String, values: [String])] {
        [("head", ClassifierHead.Kind.allCases.map(\.rawValue))]
    }

    /// The validation curve over L2 the head's strength was chosen on.
    public static func figures(for saved: SavedModel, evaluatedOn images: Dataset?) throws -> [ReportFigure] {
        guard let model = saved.model as? TransferModel, model.trials.count > 1 else { return [] }
        // log10(L2) on x: the grid is half-decades.
        let points = model.trials.map {
            LineChart.Point(x: Double(log10($0.l2)), samples: [$0.validationAccuracy], mean: $0.validationAccuracy, spread: 0)
        }
        let chart = LineChart(title: "Validation accuracy by the head's L2 strength", xLabel: "log10 L2", yLabel: "accuracy",
                              series: [LineChart.Series(name: model.head.kind.rawValue, color: LineChart.palette[0], points: points)])
        return [.svg(chart.svg(), caption: "The head's L2 strength was chosen on the validation split: "
                     + String(format: "%.0e", model.l2) + " (the highest accuracy, ties to the lower validation loss).")]
    }

    /// Whether `percept train` without `--model` should pick this family for images of `size`:
    /// a backbone is registered and the images are photos (larger than 64 px), where frozen
    /// pretrained features beat anything trained from scratch on a few hundred images.
    public static func suitsByDefault(imageSize size: ImageSize, store: BackboneStore = BackboneStore()) -> String? {
        guard max(size.width, size.height) > 64, let first = try? store.list().first else { return nil }
        return first.name
    }
}
