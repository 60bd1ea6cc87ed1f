import Foundation
import Percept

// The contract between the web app's HTTP layer (Server/, Hummingbird) and its work (Store/, Jobs/:
// GRDB, imports, the training queue): what `percept serve` offers, in the JSON API's own types, so the
// routes can be tested against a stand-in and the store without HTTP.

/// A dataset's state as `GET /api/datasets/{id}` answers it.
public struct DatasetStatus: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable { case importing, ready, failed }
    public struct LabelCount: Sendable, Codable, Equatable {
        public var name: String
        public var count: Int
        public init(name: String, count: Int) { self.name = name; self.count = count }
    }
    public struct Warning: Sendable, Codable, Equatable {
        /// e.g. `few-images`, `imbalance`, `duplicates`, `leakage`, `small-images`.
        public var kind: String
        public var message: String
        public init(kind: String, message: String) { self.kind = kind; self.message = message }
    }
    public struct Problem: Sendable, Codable, Equatable {
        /// The file inside the upload (never a path on the server).
        public var path: String
        public var reason: String
        public init(path: String, reason: String) { self.path = path; self.reason = reason }
    }
    public var id: Int64
    public var name: String
    public var state: State
    /// 0…1 while importing.
    public var progress: Double
    public var imageCount: Int
    public var classes: [LabelCount]
    public var warnings: [Warning]
    public var problems: [Problem]
    /// Why the import failed (state `failed`).
    public var error: String?
    /// Once ready: how the images are divided, and how many each split holds (`train`, `validation`, `test`).
    public var splitPlan: SplitPlan?
    public var splitCounts: [String: Int]?
    /// Sizes and colour modes of the original images (datasets imported before these were recorded have none).
    public var imageStatistics: ImageStatistics?

    public init(id: Int64, name: String, state: State, progress: Double, imageCount: Int, classes: [LabelCount],
                warnings: [Warning], problems: [Problem], error: String?, splitPlan: SplitPlan? = nil,
                splitCounts: [String: Int]? = nil, imageStatistics: ImageStatistics? = nil) {
        self.splitPlan = splitPlan
        self.splitCounts = splitCounts
        self.imageStatistics = imageStatistics
        self.id = id
        self.name = name
        self.state = state
        self.progress = progress
        self.imageCount = imageCount
        self.classes = classes
        self.warnings = warnings
        self.problems = problems
        self.error = error
    }
}

/// An image uploaded on its own with its label, already in a temporary file the service may move.
public struct LabelledUpload: Sendable {
    public var label: String
    /// The client's file name, for messages (never a path).
    public var displayName: String
    public var url: URL
    public init(label: String, displayName: String, url: URL) {
        self.label = label
        self.displayName = displayName
        self.url = url
    }
}

/// A training run as `GET /api/runs/{id}` answers it.
public struct RunStatus: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable { case queued, running, succeeded, failed, cancelled, interrupted }
    public var id: Int64
    public var datasetId: Int64
    /// The family (`knn`, `softmax`, `cnn`, `transfer`, …) and its options as given.
    public var model: String
    public var options: [String: String]
    public var state: State
    /// 0…1.
    public var progress: Double
    /// The latest progress line ("epoch 3/10: loss 1.23, …").
    public var message: String?
    /// Set when the run succeeded.
    public var modelId: Int64?
    public var error: String?
    /// One point per finished epoch (families that train in epochs), for the live training curve.
    public var curve: [EpochPoint]?
    /// From the latest progress line, while the family reports them.
    public var imagesPerSecond: Double?
    public var secondsRemaining: Double?

    public init(id: Int64, datasetId: Int64, model: String, options: [String: String], state: State, progress: Double,
                message: String?, modelId: Int64?, error: String?, curve: [EpochPoint]? = nil,
                imagesPerSecond: Double? = nil, secondsRemaining: Double? = nil) {
        self.curve = curve
        self.imagesPerSecond = imagesPerSecond
        self.secondsRemaining = secondsRemaining
        self.id = id
        self.datasetId = datasetId
        self.model = model
        self.options = options
        self.state = state
        self.progress = progress
        self.message = message
        self.modelId = modelId
        self.error = error
    }
}

/// What goes wrong in a service call, each mapped to an HTTP status by the server.
public enum ServiceError: Error, Sendable, Equatable {
    /// 400: the request itself is wrong (an unknown family, a bad option, an unreadable archive).
    case badRequest(String)
    /// 404: no such dataset, run or model.
    case notFound(String)
    /// 409: the thing exists but is in the wrong state (training on a dataset still importing, cancelling a finished run).
    case conflict(String)
    /// 413: an upload over the size limit.
    case tooLarge(String)

    public var message: String {
        switch self {
        case .badRequest(let m), .notFound(let m), .conflict(let m), .tooLarge(let m): return m
        }
    }
}

/// The web app's work, whatever serves it. Uploaded files arrive already written to a temporary
/// file the service may move; nothing here trusts a client-given name as a path.
public protocol PerceptService: Sendable {
    /// Starts importing the archive (`.zip`, `.tar.gz`: folder per label, split folders or an AutoML CSV)
    /// at `upload`, named `name`; returns the dataset's id at once (state `importing`).
    func createDataset(name: String, upload: URL) async throws -> Int64
    /// Starts importing images sent one by one, each with its label (checked: it becomes a class name).
    func createDataset(name: String, labelledFiles: [LabelledUpload]) async throws -> Int64
    /// Starts importing a folder on the server machine (folder per label, split folders or a CSV),
    /// given by its absolute path; a missing path, a file or an unreadable folder is a `badRequest`.
    /// An empty `name` takes the folder's.
    func createDataset(name: String, folder: String) async throws -> Int64
    func dataset(_ id: Int64) async throws -> DatasetStatus
    func datasets() async throws -> [DatasetStatus]
    /// Queues training `model` (a registered family) with `options` (its flags without dashes) on a ready dataset.
    func startRun(datasetId: Int64, model: String, options: [String: String]) async throws -> Int64
    func run(_ id: Int64) async throws -> RunStatus
    func runs() async throws -> [RunStatus]
    func cancelRun(_ id: Int64) async throws
    /// The test split's evaluation: the document `percept evaluate --json` prints.
    func evaluation(modelId: Int64) async throws -> Evaluation
    /// Predictions for images held in memory (each named by its `path`, the client's file name):
    /// what `percept predict --json` prints.
    func predict(modelId: Int64, images: [ArchiveEntry], top: Int) async throws -> [FilePrediction]
    /// The `.percept` file of a model, for download.
    func modelFile(_ id: Int64) async throws -> URL

    /// Divides a ready dataset's unassigned images anew; runs started afterwards train on it (runs
    /// already made keep the split they trained with).
    func setSplitPlan(datasetId: Int64, plan: SplitPlan) async throws -> DatasetStatus
    /// Up to `perLabel` images of each label, by index.
    func thumbnails(datasetId: Int64, perLabel: Int) async throws -> [ThumbnailGroup]
    /// One image of a ready dataset as stored, encoded as PNG.
    func datasetImagePNG(datasetId: Int64, index: Int) async throws -> [UInt8]
    /// Queues an interrupted run again, from its last checkpoint where its family writes one.
    func resumeRun(_ id: Int64) async throws
    /// The model's answer on every test image (computed with the evaluation, then kept).
    func testPredictions(modelId: Int64) async throws -> TestPredictions
    /// The one-page HTML report `percept report` writes, on the model's own test split.
    func reportHTML(modelId: Int64) async throws -> String
}
