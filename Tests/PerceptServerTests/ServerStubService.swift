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
    private(set) var predictedImages: [(name: String, contents: Data)] = []
    private(set) var startedRuns: [(datasetId: Int64, model: String, options: [String: String])] = []
    private(set) var splitPlans: [SplitPlan] = []
    private(set) var resumedRuns: [Int64] = []
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
        runScripts[9] = [RunStatus(id: 9, datasetId: 1, model: "cnn", options: [:], state: .interrupted, progress: 0.3,
                                   message: "epoch 3/10 step 4/4  loss 1.500  acc 40.0%  900 img/s  ETA 20 s  val 35.0%",
                                   modelId: nil, error: "the server stopped during training",
                                   curve: [EpochPoint(epoch: 1, loss: 2.0, accuracy: 0.2, validationAccuracy: 0.25),
                                           EpochPoint(epoch: 2, loss: 1.5, accuracy: 0.4, validationAccuracy: 0.35)],
                                   imagesPerSecond: 900, secondsRemaining: 20)]
    }

    func createDataset(name: String, upload: URL) async throws -> Int64 {
        uploads.append(ReceivedUpload(name: name, url: upload, contents: (try? Data(contentsOf: upload)) ?? Data()))
        let id = Int64(100 + uploads.count)
        datasetsById[id] = DatasetStatus(id: id, name: name, state: .importing, progress: 0, imageCount: 0, classes: [],
                                         warnings: [], problems: [], error: nil)
        return id
    }

    private(set) var labelledUploads: [(name: String, files: [(label: String, displayName: String, contents: Data)])] = []
    private(set) var folderImports: [(name: String, folder: String)] = []

    func createDataset(name: String, labelledFiles: [LabelledUpload]) async throws -> Int64 {
        let files = try labelledFiles.map { file in
            (label: try LabelledFiles.checkedLabel(file.label, for: file.displayName), displayName: file.displayName,
             contents: (try? Data(contentsOf: file.url)) ?? Data())
        }
        labelledUploads.append((name, files))
        for file in labelledFiles { try? FileManager.default.removeItem(at: file.url) }
        return try await createDataset(name: name, upload: modelFileURL)
    }

    func createDataset(name: String, folder: String) async throws -> Int64 {
        guard folder.hasPrefix("/") else { throw ServiceError.badRequest("'\(folder)' is not an absolute path") }
        folderImports.append((name, folder))
        return try await createDataset(name: name.isEmpty ? "folder" : name, upload: modelFileURL)
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

    func predict(modelId: Int64, images: [ArchiveEntry], top: Int) async throws -> [FilePrediction] {
        guard modelId == 11 else { throw ServiceError.notFound("there is no model \(modelId)") }
        predictedImages += images.map { ($0.path, Data($0.data)) }
        let answers: [[String: Any]] = images.map { ["path": $0.path, "top": [["label": "cat", "probability": 0.75]]] }
        return try JSONDecoder().decode([FilePrediction].self, from: JSONSerialization.data(withJSONObject: answers))
    }

    func modelFile(_ id: Int64) async throws -> URL {
        guard id == 11 else { throw ServiceError.notFound("there is no model \(id)") }
        return modelFileURL
    }

    func setSplitPlan(datasetId: Int64, plan: SplitPlan) async throws -> DatasetStatus {
        var dataset = try await self.dataset(datasetId)
        guard dataset.state == .ready else { throw ServiceError.conflict("dataset \(datasetId) is still importing") }
        let plan = try plan.checked()
        splitPlans.append(plan)
        dataset.splitPlan = plan
        let validation = dataset.imageCount * plan.validation / 100, test = dataset.imageCount * plan.test / 100
        dataset.splitCounts = ["train": dataset.imageCount - validation - test, "validation": validation, "test": test]
        datasetsById[datasetId] = dataset
        return dataset
    }

    /// Dataset 1's images: cat 0 and 1, dog 2.
    func thumbnails(datasetId: Int64, perLabel: Int) async throws -> [ThumbnailGroup] {
        guard try await dataset(datasetId).state == .ready else { throw ServiceError.conflict("dataset \(datasetId) is not ready") }
        return [ThumbnailGroup(label: "cat", indices: Array([0, 1].prefix(perLabel))), ThumbnailGroup(label: "dog", indices: [2])]
    }

    /// A 2×1 PNG whose first pixel's red value is the index.
    func datasetImagePNG(datasetId: Int64, index: Int) async throws -> [UInt8] {
        guard try await dataset(datasetId).state == .ready else { throw ServiceError.conflict("dataset \(datasetId) is not ready") }
        guard (0...2).contains(index) else { throw ServiceError.notFound("dataset \(datasetId) has no image \(index)") }
        return try Image(width: 2, height: 1, pixels: [UInt8(index), 0, 0, 255, 255, 255]).pngData()
    }

    func resumeRun(_ id: Int64) async throws {
        let run = try await self.run(id)
        guard run.state == .interrupted else { throw ServiceError.conflict("run \(id) is \(run.state.rawValue)") }
        resumedRuns.append(id)
        var queued = run
        queued.state = .queued
        queued.error = nil
        runScripts[id] = [queued]
    }

    /// The four test images of `evaluation()`, by confidence: cat 0.9 right, cat as dog 0.6, dog 0.8 right, dog 0.55 right.
    func testPredictions(modelId: Int64) async throws -> TestPredictions {
        guard modelId == 11 else { throw ServiceError.notFound("there is no model \(modelId)") }
        return TestPredictions(datasetId: 1, classNames: ["cat", "dog"], items: [
            .init(index: 0, truth: 0, predicted: 0, probabilities: [0.9, 0.1]),
            .init(index: 1, truth: 0, predicted: 1, probabilities: [0.4, 0.6]),
            .init(index: 2, truth: 1, predicted: 1, probabilities: [0.2, 0.8]),
            .init(index: 3, truth: 1, predicted: 1, probabilities: [0.45, 0.55]),
        ])
    }

    func reportHTML(modelId: Int64) async throws -> String {
        guard modelId == 11 else { throw ServiceError.notFound("there is no model \(modelId)") }
        return "<!DOCTYPE html><title>stub report</title>"
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
