import Foundation
import Percept
@testable import PerceptServer

/// An in-memory `PerceptService` for the HTTP tests: canned datasets, runs that advance one step
/// per look (so an event stream sees them change), and a record of what the routes passed in.
actor StubService: PerceptService {
    struct ReceivedUpload: Sendable {
        var name: String
        var url: URL
        var contents: Data
    }

    private(set) var uploads: [ReceivedUpload] = []
    private(set) var predictedFiles: [(url: URL, contents: Data)] = []
    private(set) var startedRuns: [(datasetId: Int64, model: String, options: [String: String])] = []
    private var datasetsById: [Int64: DatasetStatus] = [:]
    /// Each run's states still to come: `run(_:)` answers the first and drops it while more remain.
    private var runScripts: [Int64: [RunStatus]] = [:]
    private let modelFileURL: URL

    static let modelBytes = Data("PERCEPT-MODEL-BYTES".utf8)

    init() {
        modelFileURL = FileManager.default.temporaryDirectory.appendingPathComponent("stub-\(UUID().uuidString).percept")
        try? Self.modelBytes.write(to: modelFileURL)
        datasetsById[1] = DatasetStatus(id: 1, name: "pets", state: .ready, progress: 1, imageCount: 130,
                                        classes: [.init(name: "cat", count: 100), .init(name: "dog", count: 30)],
                                        warnings: [.init(kind: "few-images", message: "dog has only 30 images")],
                                        problems: [.init(path: "dog/broken.jpg", reason: "not a JPEG")], error: nil)
        datasetsById[2] = DatasetStatus(id: 2, name: "arriving", state: .importing, progress: 0.4, imageCount: 0,
                                        classes: [], warnings: [], problems: [], error: nil)
        let queued = RunStatus(id: 7, datasetId: 1, model: "knn", options: ["k": "3"], state: .queued, progress: 0,
                               message: nil, modelId: nil, error: nil)
        var running = queued
        running.state = .running
        running.progress = 0.5
        running.message = "epoch 1/2"
        var succeeded = running
        succeeded.state = .succeeded
        succeeded.progress = 1
        succeeded.message = "done"
        succeeded.modelId = 11
        runScripts[7] = [queued, running, running, succeeded]
        runScripts[8] = [RunStatus(id: 8, datasetId: 1, model: "softmax", options: [:], state: .failed, progress: 0.2,
                                   message: nil, modelId: nil, error: "diverged")]
    }

    func createDataset(name: String, upload: URL) async throws -> Int64 {
        uploads.append(ReceivedUpload(name: name, url: upload, contents: (try? Data(contentsOf: upload)) ?? Data()))
        let id = Int64(100 + uploads.count)
        datasetsById[id] = DatasetStatus(id: id, name: name, state: .importing, progress: 0, imageCount: 0, classes: [],
                                         warnings: [], problems: [], error: nil)
        return id
    }

    func dataset(_ id: Int64) async throws -> DatasetStatus {
        guard let dataset = datasetsById[id] else { throw ServiceError.notFound("there is no dataset \(id)") }
        return dataset
    }

    func datasets() async throws -> [DatasetStatus] { datasetsById.values.sorted { $0.id < $1.id } }

    func startRun(datasetId: Int64, model: String, options: [String: String]) async throws -> Int64 {
        let dataset = try await self.dataset(datasetId)
        guard ModelRegistry.names.contains(model) else { throw ServiceError.badRequest("there is no model family '\(model)'") }
        guard dataset.state == .ready else { throw ServiceError.conflict("dataset \(datasetId) is still importing") }
        startedRuns.append((datasetId, model, options))
        return 50
    }

    func run(_ id: Int64) async throws -> RunStatus {
        guard var script = runScripts[id], let first = script.first else { throw ServiceError.notFound("there is no run \(id)") }
        if script.count > 1 { script.removeFirst() }
        runScripts[id] = script
        return first
    }

    func runs() async throws -> [RunStatus] { runScripts.keys.sorted().compactMap { runScripts[$0]?.last } }

    func cancelRun(_ id: Int64) async throws {
        let run = try await self.run(id)
        if RunEvents.finalStates.contains(run.state) { throw ServiceError.conflict("run \(id) has already ended") }
    }

    func evaluation(modelId: Int64) async throws -> Evaluation {
        guard modelId == 11 else { throw ServiceError.notFound("there is no model \(modelId)") }
        return try Self.evaluation()
    }

    func predict(modelId: Int64, files: [URL], top: Int) async throws -> [FilePrediction] {
        guard modelId == 11 else { throw ServiceError.notFound("there is no model \(modelId)") }
        predictedFiles += files.map { ($0, (try? Data(contentsOf: $0)) ?? Data()) }
        let answers: [[String: Any]] = files.map { ["path": $0.path, "top": [["label": "cat", "probability": 0.75]]] }
        return try JSONDecoder().decode([FilePrediction].self, from: JSONSerialization.data(withJSONObject: answers))
    }

    func modelFile(_ id: Int64) async throws -> URL {
        guard id == 11 else { throw ServiceError.notFound("there is no model \(id)") }
        return modelFileURL
    }

    /// Three of four right: truth cat, cat, dog, dog; predicted cat, dog, dog, dog.
    static func evaluation() throws -> Evaluation {
        let confusion = try ConfusionMatrix(truth: [0, 0, 1, 1], predicted: [0, 1, 1, 1], classNames: ["cat", "dog"])
        let encoder = JSONEncoder()
        let document: [String: Any] = [
            "images": 4, "accuracy": confusion.accuracy, "topKAccuracy": 1.0, "topK": 2, "mistakes": [] as [Any],
            "confusion": try JSONSerialization.jsonObject(with: encoder.encode(confusion)),
            "report": try JSONSerialization.jsonObject(with: encoder.encode(ClassificationReport(confusion))),
        ]
        return try JSONDecoder().decode(Evaluation.self, from: JSONSerialization.data(withJSONObject: document))
    }
}
