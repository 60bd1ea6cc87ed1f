import Foundation
import GRDB
import Percept
import PerceptCore
import PerceptData

/// Trained models: their evaluation on the test split, predictions, the file.
extension LocalPerceptService {
    public func evaluation(modelId: Int64) async throws -> Evaluation {
        let (model, run) = try await modelAndRun(modelId)
        if let cached = try await database.read({ try EvaluationRecord.fetchOne($0, key: modelId) }) {
            return try JSONDecoder().decode(Evaluation.self, from: Data(cached.document.utf8))
        }
        let dataset = try await database.read { try DatasetRecord.fetchOne($0, key: run.datasetId) }
        guard let packFile = dataset?.packFile else {
            throw ServiceError.conflict("the dataset model \(modelId) was trained on is gone")
        }
        let saved = try loadModel(model)
        let packPath = directory.pack(named: packFile).path
        let evaluation: Evaluation = try await Self.offCooperativePool {
            let (splits, _) = try PackFile.load(packPath).standardSplits(as: saved)
            guard !splits.test.isEmpty else {
                throw ServiceError.conflict("the dataset's test split is empty: nothing to evaluate on")
            }
            return try Evaluation(model: saved.model, on: saved.fitted(splits.test))
        }
        let document = String(decoding: try JSONEncoder().encode(evaluation), as: UTF8.self)
        try await database.write { db in
            try EvaluationRecord(modelId: modelId, document: document, createdAt: Date()).insert(db, onConflict: .replace)
        }
        return evaluation
    }

    public func predict(modelId: Int64, files: [URL], top: Int) async throws -> [FilePrediction] {
        let (model, _) = try await modelAndRun(modelId)
        guard top >= 1 else { throw ServiceError.badRequest("top needs at least 1, got \(top)") }
        guard !files.isEmpty else { throw ServiceError.badRequest("no images to predict") }
        let batcher = try predictionBatcher(model)
        let paths = files.map(\.path)
        var answers = try await batcher.predict(files: paths, top: top)
        // The client knows its files by their names, not by where the server put them.
        for index in answers.indices {
            let name = files[index].lastPathComponent
            answers[index].path = name
            answers[index].error = answers[index].error.map { ClientMessage.hidingPath(paths[index], as: name, in: $0) }
        }
        let encoder = JSONEncoder()
        let rows = try answers.map { answer in
            PredictionRecord(id: nil, modelId: modelId, inputName: answer.path,
                             document: String(decoding: try encoder.encode(answer), as: UTF8.self), createdAt: Date())
        }
        try await database.write { db in
            for var row in rows { try row.insert(db) }
        }
        return answers
    }

    public func modelFile(_ id: Int64) async throws -> URL {
        let (model, _) = try await modelAndRun(id)
        return directory.model(named: model.fileName)
    }

    private func modelAndRun(_ id: Int64) async throws -> (ModelRecord, RunRecord) {
        let found = try await database.read { db -> (ModelRecord, RunRecord)? in
            guard let model = try ModelRecord.fetchOne(db, key: id), let run = try RunRecord.fetchOne(db, key: model.runId) else {
                return nil
            }
            return (model, run)
        }
        guard let found else { throw ServiceError.notFound("there is no model \(id)") }
        return found
    }

    private func loadModel(_ model: ModelRecord) throws -> SavedModel {
        try modelOrConflict(model) { try models.model(at: $0) }
    }

    private func predictionBatcher(_ model: ModelRecord) throws -> PredictionBatcher {
        try modelOrConflict(model) { try models.batcher(at: $0) }
    }

    private func modelOrConflict<T>(_ model: ModelRecord, _ load: (String) throws -> T) throws -> T {
        let path = directory.model(named: model.fileName).path
        do {
            return try load(path)
        } catch {
            throw ServiceError.conflict("model \(model.id ?? 0) cannot be read: "
                + ClientMessage.describing(error, hiding: [path: model.fileName]))
        }
    }

    /// Runs blocking work (decoding, a model over many images) on a thread of its own.
    static func offCooperativePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }
}

/// Loaded models by file, so predictions do not read the file again each time, and each model's
/// prediction batcher, so concurrent requests for one model share batches.
final class ModelCache: @unchecked Sendable {
    private let lock = NSLock()
    private var loaded: [String: SavedModel] = [:]
    private var batchers: [String: PredictionBatcher] = [:]

    func model(at path: String) throws -> SavedModel {
        if let model = lock.withLock({ loaded[path] }) { return model }
        let model = try SavedModel.load(path)
        lock.withLock { loaded[path] = model }
        return model
    }

    func batcher(at path: String) throws -> PredictionBatcher {
        if let batcher = lock.withLock({ batchers[path] }) { return batcher }
        let batcher = PredictionBatcher(model: try model(at: path))
        // Two first requests may both build one; the first stored is the one everybody shares.
        return lock.withLock {
            if let existing = batchers[path] { return existing }
            batchers[path] = batcher
            return batcher
        }
    }
}
