import Foundation
import GRDB
import Percept
import PerceptCore
import PerceptData
import PerceptModelKit

/// Trained models: their evaluation on the test split, predictions, the file.
extension LocalPerceptService {
    public func evaluation(modelId: Int64) async throws -> Evaluation {
        try await evaluated(modelId, needingPredictions: false).evaluation
    }

    public func testPredictions(modelId: Int64) async throws -> TestPredictions {
        guard let predictions = try await evaluated(modelId, needingPredictions: true).predictions else {
            throw ServiceError.conflict("model \(modelId)'s test predictions could not be computed")
        }
        return predictions
    }

    /// The one-page report `percept report` writes, on the dataset split as the run trained on it.
    public func reportHTML(modelId: Int64) async throws -> String {
        let (model, run) = try await modelAndRun(modelId)
        let datasetRow = try await readyDataset(run.datasetId)
        let loaded = try loadModel(model)
        let pack = try loadPack(datasetRow)
        let plan = run.splitPlan ?? .standard
        return try await Self.offCooperativePool {
            let assigned = try plan.apply(to: pack)
            // The model's file name, not its path: the report names no folder of the server.
            return try loaded.exclusively { saved in
                try ModelReport(model: saved, modelPath: model.fileName,
                                data: (LoadResult(dataset: assigned), datasetRow.name)).html()
            }
        }
    }

    /// The test split's evaluation and per-image predictions, computed once and kept (evaluations
    /// from before v2 get their predictions added when first asked for).
    private func evaluated(_ modelId: Int64, needingPredictions: Bool) async throws
        -> (evaluation: Evaluation, predictions: TestPredictions?) {
        let (model, run) = try await modelAndRun(modelId)
        let cached = try await database.read { try EvaluationRecord.fetchOne($0, key: modelId) }
        if let cached {
            let evaluation = try JSONDecoder().decode(Evaluation.self, from: Data(cached.document.utf8))
            if let stored = cached.predictions {
                return (evaluation, try JSONDecoder().decode(TestPredictions.self, from: Data(stored.utf8)))
            }
            if !needingPredictions { return (evaluation, nil) }
        }
        let datasetRow = try await database.read { try DatasetRecord.fetchOne($0, key: run.datasetId) }
        guard let datasetRow, datasetRow.packFile != nil else {
            throw ServiceError.conflict("the dataset model \(modelId) was trained on is gone")
        }
        let loaded = try loadModel(model)
        let pack = try loadPack(datasetRow)
        // The split the run trained with (runs from before split plans: the pack's own, fully assigned splits).
        let plan = run.splitPlan ?? .standard
        let datasetId = run.datasetId
        let (evaluation, predictions): (Evaluation, TestPredictions) = try await Self.offCooperativePool {
            let assigned = try plan.apply(to: pack)
            let testIndices = assigned.splits.indices.filter { assigned.splits[$0] == .test }
            let (splits, _) = try assigned.standardSplits(as: loaded.saved)
            guard !splits.test.isEmpty else {
                throw ServiceError.conflict("the dataset's test split is empty: nothing to evaluate on")
            }
            let test = try loaded.saved.fitted(splits.test)
            return try loaded.exclusively { saved in
                (try Evaluation(model: saved.model, on: test),
                 try Self.predictions(of: saved.model, on: test, datasetIndices: testIndices, datasetId: datasetId))
            }
        }
        let encoder = JSONEncoder()
        let document = String(decoding: try encoder.encode(evaluation), as: UTF8.self)
        let predictionsJSON = String(decoding: try encoder.encode(predictions), as: UTF8.self)
        try await database.write { db in
            try EvaluationRecord(modelId: modelId, document: cached?.document ?? document, createdAt: cached?.createdAt ?? Date(),
                                 predictions: predictionsJSON).insert(db, onConflict: .replace)
        }
        if let cached {
            return (try JSONDecoder().decode(Evaluation.self, from: Data(cached.document.utf8)), predictions)
        }
        return (evaluation, predictions)
    }

    /// Every test image's class probabilities, with its index in the dataset (`datasetIndices[i]` is test image i's).
    static func predictions(of model: any Classifier, on test: Dataset, datasetIndices: [Int],
                            datasetId: Int64) throws -> TestPredictions {
        guard datasetIndices.count == test.count else {
            throw PerceptError.invalidData("the test split has \(test.count) images but \(datasetIndices.count) indices")
        }
        let truthByLabel = try test.classNames.map { name -> Int in
            guard let index = model.classNames.firstIndex(of: name) else {
                throw PerceptError.invalidData("the data has the label \"\(name)\", which the model does not know")
            }
            return index
        }
        let classes = model.classNames.count
        let (rankings, probabilities) = try model.classRankingWithProbabilities(test, k: 1)
        let scalars = probabilities.scalars
        let items = test.labels.indices.map { item in
            TestPredictions.Item(index: datasetIndices[item], truth: truthByLabel[Int(test.labels[item])],
                                 predicted: rankings[item].first ?? 0,
                                 probabilities: (0..<classes).map { (Double(scalars[item * classes + $0]) * 10_000).rounded() / 10_000 })
        }
        return TestPredictions(datasetId: datasetId, classNames: model.classNames, items: items)
    }

    public func predict(modelId: Int64, images: [ArchiveEntry], top: Int) async throws -> [FilePrediction] {
        guard top >= 1 else { throw ServiceError.badRequest("top needs at least 1, got \(top)") }
        guard !images.isEmpty else { throw ServiceError.badRequest("no images to predict") }
        let batcher = try predictionBatcher(try await modelRecord(modelId))
        // The batcher stores the answers in the prediction log, one transaction per batch.
        return try await batcher.predict(images, top: top, modelId: modelId)
    }

    /// The prediction log's rows for a batch's answers, written in one transaction.
    ///
    /// One prepared statement executed per row (the columns of `PredictionRecord`): the record API would
    /// rebuild each row's values through Codable, a cost a server answering one photo per request feels.
    static func record(_ answered: [PredictionBatcher.Answered], in database: DatabasePool) throws {
        let encoder = JSONEncoder()
        let now = Date()
        let rows: [StatementArguments] = try answered.flatMap { request in
            try request.answers.map { answer in
                [request.modelId, answer.path, String(decoding: try encoder.encode(answer), as: UTF8.self), now]
            }
        }
        try database.write { db in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO \(PredictionRecord.databaseTableName) (modelId, inputName, document, createdAt) VALUES (?, ?, ?, ?)
                """)
            for row in rows { try insert.execute(arguments: row) }
        }
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

    /// A model's row, read once: model rows never change after they are written.
    private func modelRecord(_ id: Int64) async throws -> ModelRecord {
        if let known = models.record(id) { return known }
        guard let found = try await database.read({ db in try ModelRecord.fetchOne(db, key: id) }) else {
            throw ServiceError.notFound("there is no model \(id)")
        }
        models.remember(found, id: id)
        return found
    }

    private func loadModel(_ model: ModelRecord) throws -> LoadedModel {
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

/// A model loaded once for every request that uses it, and the lock its computations take: a model
/// keeps working buffers between calls (a CNN's scratch and activations, an ONNX session's
/// workspaces), so two computations at once on one instance — an evaluation beside a batch of
/// predictions — would write over each other's.
final class LoadedModel: @unchecked Sendable {
    /// For what reads no working state (its input size, decoding); computations go through `exclusively`.
    let saved: SavedModel
    private let lock = NSLock()

    init(_ saved: SavedModel) { self.saved = saved }

    /// Runs `body` on the model, one caller at a time.
    func exclusively<T>(_ body: (SavedModel) throws -> T) rethrows -> T {
        try lock.withLock { try body(saved) }
    }
}

/// Loaded models by file, so predictions do not read the file again each time, each model's
/// prediction batcher, so concurrent requests for one model share batches, and the model rows
/// predictions have asked for.
final class ModelCache: @unchecked Sendable {
    private let lock = NSLock()
    private var loaded: [String: LoadedModel] = [:]
    private var batchers: [String: PredictionBatcher] = [:]
    private var records: [Int64: ModelRecord] = [:]
    /// Stores a batch's answers (the prediction log).
    private let record: ([PredictionBatcher.Answered]) throws -> Void

    init(record: @escaping ([PredictionBatcher.Answered]) throws -> Void) {
        self.record = record
    }

    func model(at path: String) throws -> LoadedModel {
        if let model = lock.withLock({ loaded[path] }) { return model }
        let model = LoadedModel(try SavedModel.load(path))
        // Two first requests may both load it; the first stored is the one everybody shares (and locks).
        return lock.withLock {
            if let existing = loaded[path] { return existing }
            loaded[path] = model
            return model
        }
    }

    func batcher(at path: String) throws -> PredictionBatcher {
        if let batcher = lock.withLock({ batchers[path] }) { return batcher }
        let batcher = PredictionBatcher(model: try model(at: path), record: record)
        // Two first requests may both build one; the first stored is the one everybody shares.
        return lock.withLock {
            if let existing = batchers[path] { return existing }
            batchers[path] = batcher
            return batcher
        }
    }

    func record(_ id: Int64) -> ModelRecord? { lock.withLock { records[id] } }

    func remember(_ model: ModelRecord, id: Int64) { lock.withLock { records[id] = model } }
}
