import Dispatch
import Foundation
import PerceptCore
import PerceptData
import PerceptImage
import PerceptDistributed
import PerceptModelKit

/// One model family, registered once (`ModelRegistry`): everything `percept train`, `tune`,
/// `evaluate`, `report`, `demo`, `SavedModel.load` and the web app need to know about it.
///
/// A family names its options (`parameters`: flag, help, default, allowed values — the CLI parses
/// and documents them, a web form can draw them), fits a model from settings (`fit`), says which
/// model types it saves (their archive `kind` and layout version live on the type), which input
/// size suits it when the user gives none, and which pictures a report shows for its models.
public protocol ModelFamily: Sendable {
    /// The name on the command line (`--model NAME`) and in menus: "knn", "softmax", "cnn".
    static var name: String { get }
    /// One line for `--help` and menus.
    static var summary: String { get }
    /// The family's options with their defaults, in the order `--help` lists them.
    static var parameters: [ModelParameter] { get }
    /// The model types this family saves; `SavedModel.load` finds a file's type by its `kind`.
    static var modelTypes: [any ArchivableModel.Type] { get }
    /// The input size when the user gives none: images no larger than this keep their own size
    /// (CIFAR's 32×32, MNIST's 28×28), larger ones (camera photos) are fitted to it.
    static var defaultInputSize: ImageSize { get }
    /// A short description of one setting for logs and reports: "cnn (resnet20)", "svm".
    static func recipeName(_ settings: ModelSettings) -> String
    /// Fits a model on `job.train`, measuring nothing on `job.validation` but what the family's
    /// training itself uses (early stopping, curves); `train(_:_:)` (ModelRegistry.swift) measures accuracy.
    static func fit(_ settings: ModelSettings, _ job: TrainingJob) throws -> FittedModel
    /// Fits one model per setting (a hyper-parameter search's trials); a family overrides it
    /// when settings can share work (the SGD families prepare features once). A setting that
    /// fails for its own values (divergence) is a `.failure`, not a thrown error.
    static func fitEach(_ settings: [ModelSettings], _ job: TrainingJob) throws -> [Result<FittedModel, PerceptError>]
    /// The family's default hyper-parameter search: the options worth searching and the values to
    /// try, given the fixed settings (the SGD families' rates depend on the features). Empty when
    /// the family has none worth its cost.
    static func searchSpace(_ fixed: ModelSettings) -> [(name: String, values: [String])]
    /// Pictures a report shows for a saved model of this family (curves, templates, retrievals).
    static func figures(for model: SavedModel, evaluatedOn images: Dataset?) throws -> [ReportFigure]
}

extension ModelFamily {
    public static func fitEach(_ settings: [ModelSettings], _ job: TrainingJob) throws -> [Result<FittedModel, PerceptError>] {
        try settings.map { setting in
            let start = DispatchTime.now()
            do {
                var fitted = try fit(setting, job)
                fitted.seconds = secondsSince(start)
                return .success(fitted)
            } catch let error as PerceptError where error.kind == .invalidArgument {
                return .failure(error)
            }
        }
    }

    public static func recipeName(_ settings: ModelSettings) -> String { name }
    public static func searchSpace(_ fixed: ModelSettings) -> [(name: String, values: [String])] { [] }
    public static func figures(for model: SavedModel, evaluatedOn images: Dataset?) throws -> [ReportFigure] { [] }
}

/// What a family's `fit` gets: the splits, a seed, threads, and a progress callback (throwing
/// from it stops training).
public struct TrainingJob {
    public var train: Dataset
    public var validation: Dataset?
    public var seed: UInt64
    /// Worker threads; nil uses every core.
    public var threads: Int?
    public var progress: (String) throws -> Void
    /// The ranks training together (`--distributed`); one process by default. Every rank holds the
    /// same splits; a family that trains by SGD splits each global batch across the ranks.
    public var communicator: Communicator

    public init(train: Dataset, validation: Dataset?, seed: UInt64 = 0, threads: Int? = nil,
                communicator: Communicator = SingleProcess(),
                progress: @escaping (String) throws -> Void = { _ in }) {
        self.communicator = communicator
        self.train = train
        self.validation = validation
        self.seed = seed
        self.threads = threads
        self.progress = progress
    }
}

/// A family's fitted model and, for families that train by epochs, the curves of the run.
public struct FittedModel: Sendable {
    public var model: any ArchivableModel
    public var history: TrainingHistory?
    /// Seconds this model's own fitting took (work shared between a search's trials excluded).
    public var seconds: Double
    /// The model's predictions on the job's validation images when the family already made them
    /// (transfer: from cached features), so measuring it does not run the model again.
    public var validationPredictions: [Int32]?

    public init(model: any ArchivableModel, history: TrainingHistory? = nil, seconds: Double = 0,
                validationPredictions: [Int32]? = nil) {
        self.model = model
        self.history = history
        self.seconds = seconds
        self.validationPredictions = validationPredictions
    }
}

/// Seconds since `start`.
func secondsSince(_ start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

/// A picture for the report: an SVG drawing or a PNG image, with its caption.
public enum ReportFigure {
    case svg(String, caption: String)
    case png(Image, alt: String, caption: String)
}
