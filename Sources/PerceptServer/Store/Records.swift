import Foundation
import GRDB

// The rows of the web app's database, one struct per table. Nested values (label counts,
// warnings, options, classes) are Codable and stored by GRDB as JSON text.

/// A dataset: its import state and, once ready, the pack file holding its images and splits.
struct DatasetRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "dataset"
    var id: Int64?
    var name: String
    var state: DatasetStatus.State
    var progress: Double
    /// The pack's file name inside `datasets/`, set in the same write that makes the dataset ready.
    var packFile: String?
    var imageCount: Int
    var labelCounts: [DatasetStatus.LabelCount]
    /// Images per split (`train`, `validation`, `test`), as stratified at import.
    var splitCounts: [String: Int]
    var warnings: [DatasetStatus.Warning]
    var problems: [DatasetStatus.Problem]
    var error: String?
    var createdAt: Date
    /// How unassigned images are divided (v2); nil means the standard 80/10/10 (a dataset from before v2
    /// stored its splits fully assigned in its pack).
    var splitPlan: SplitPlan? = nil
    /// The original images' sizes and colour modes (v2).
    var imageStatistics: ImageStatistics? = nil
    /// The server folder a dataset was imported from (v2); nil for uploads.
    var sourceFolder: String? = nil

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    var status: DatasetStatus {
        DatasetStatus(id: id ?? 0, name: name, state: state, progress: progress, imageCount: imageCount,
                      classes: labelCounts, warnings: warnings, problems: problems, error: error,
                      splitPlan: state == .ready ? (splitPlan ?? .standard) : nil,
                      splitCounts: state == .ready ? splitCounts : nil, imageStatistics: imageStatistics)
    }
}

/// A training run: what was asked, where it stands, and the model it made.
struct RunRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "run"
    var id: Int64?
    var datasetId: Int64
    var family: String
    var options: [String: String]
    var state: RunStatus.State
    var progress: Double
    var message: String?
    /// The family's training curves (`TrainingHistory` as JSON), once finished.
    var history: String?
    /// Every progress line, newest last.
    var log: String
    var error: String?
    var modelId: Int64?
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    /// The dataset's split plan when the run was queued (v2); nil for runs from before v2.
    var splitPlan: SplitPlan? = nil
    /// One point per finished epoch (v2).
    var curve: [EpochPoint]? = nil

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    var status: RunStatus {
        let latest = state == .running ? message.flatMap(ProgressLine.init) : nil
        return RunStatus(id: id ?? 0, datasetId: datasetId, model: family, options: options, state: state, progress: progress,
                         message: message, modelId: modelId, error: error, curve: curve,
                         imagesPerSecond: latest?.imagesPerSecond, secondsRemaining: latest?.secondsRemaining)
    }
}

/// A trained model: its `.percept` file inside `models/`, written before this row.
struct ModelRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "model"
    var id: Int64?
    var runId: Int64
    var fileName: String
    var family: String
    var classes: [String]
    var createdAt: Date

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A model's evaluation on its dataset's test split (the `percept evaluate --json` document), computed once.
struct EvaluationRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "evaluation"
    var modelId: Int64
    var document: String
    var createdAt: Date
    /// `TestPredictions` as JSON (v2); nil for evaluations from before v2, computed again when asked for.
    var predictions: String? = nil
}

/// One image's prediction by a model, kept for the history page.
struct PredictionRecord: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "prediction"
    var id: Int64?
    var modelId: Int64
    /// The uploaded file's own name (never a server path).
    var inputName: String
    var document: String
    var createdAt: Date

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension DatasetStatus.State: DatabaseValueConvertible {}
extension RunStatus.State: DatabaseValueConvertible {}
