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

    public init(id: Int64, name: String, state: State, progress: Double, imageCount: Int, classes: [LabelCount],
                warnings: [Warning], problems: [Problem], error: String?) {
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

    public init(id: Int64, datasetId: Int64, model: String, options: [String: String], state: State, progress: Double,
                message: String?, modelId: Int64?, error: String?) {
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
    func dataset(_ id: Int64) async throws -> DatasetStatus
    func datasets() async throws -> [DatasetStatus]
    /// Queues training `model` (a registered family) with `options` (its flags without dashes) on a ready dataset.
    func startRun(datasetId: Int64, model: String, options: [String: String]) async throws -> Int64
    func run(_ id: Int64) async throws -> RunStatus
    func runs() async throws -> [RunStatus]
    func cancelRun(_ id: Int64) async throws
    /// The test split's evaluation: the document `percept evaluate --json` prints.
    func evaluation(modelId: Int64) async throws -> Evaluation
    /// Predictions for image files already on disk: what `percept predict --json` prints.
    func predict(modelId: Int64, files: [URL], top: Int) async throws -> [FilePrediction]
    /// The `.percept` file of a model, for download.
    func modelFile(_ id: Int64) async throws -> URL
}
