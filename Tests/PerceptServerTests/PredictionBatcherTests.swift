import Foundation
import GRDB
import Percept
@testable import PerceptServer
import XCTest

/// Dynamic batching must not change an answer: concurrent requests with different files and `top`
/// get exactly what each would get alone, a bad file fails only its own entry, and every answer
/// reaches the prediction log once.
final class PredictionBatcherTests: XCTestCase {
    func testConcurrentRequestsGetTheAnswersTheyWouldGetAlone() async throws {
        let directory = try StoreFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (service, datasetId) = try await StoreFixtures.serviceWithShapes(in: directory)
        let run = try await service.finishedRun(try await service.startRun(datasetId: datasetId, model: "softmax", options: [:]))
        let model = try SavedModel.load(try await service.modelFile(try XCTUnwrap(run.modelId, run.error ?? "")).path)
        let photos = (FileManager.default.enumerator(at: directory.appendingPathComponent("source"), includingPropertiesForKeys: nil)?
            .compactMap { ($0 as? URL)?.path }.filter { $0.hasSuffix(".png") }.sorted() ?? [])
        XCTAssertGreaterThanOrEqual(photos.count, 12)
        let broken = directory.appendingPathComponent("broken.png").path
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: broken))
        // Requests of one to three files (one with a broken file), each with its own top.
        let requests: [(paths: [String], top: Int)] = (0..<24).map { index in
            var paths = (0...(index % 3)).map { photos[(index * 5 + $0) % photos.count] }
            if index == 7 { paths.insert(broken, at: 1) }
            return (paths, 1 + index % 3)
        }
        let log = Log()
        let batcher = PredictionBatcher(model: LoadedModel(model), maxImages: 8) { log.add($0) }
        let answers = try await withThrowingTaskGroup(of: (Int, [FilePrediction]).self) { group in
            for (index, request) in requests.enumerated() {
                let images = try request.paths.map { ArchiveEntry(path: $0, data: [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0)))) }
                group.addTask { (index, try await batcher.predict(images, top: request.top, modelId: Int64(index))) }
            }
            var answers = [[FilePrediction]](repeating: [], count: requests.count)
            for try await (index, answer) in group { answers[index] = answer }
            return answers
        }
        for (request, answer) in zip(requests, answers) {
            let alone = try model.predict(files: request.paths, top: request.top)
            XCTAssertEqual(answer.count, request.paths.count)
            for (got, expected) in zip(answer, alone) {
                XCTAssertEqual(got.path, expected.path)
                XCTAssertEqual(got.top.map { $0.label }, expected.top.map { $0.label })
                XCTAssertEqual(got.top.count, got.error == nil ? request.top : 0)
                for (a, b) in zip(got.top, expected.top) { XCTAssertEqual(a.probability, b.probability, accuracy: 1e-6) }
                XCTAssertEqual(got.error == nil, expected.error == nil, "\(got.path): \(got.error ?? "")")
            }
        }
        XCTAssertNotNil(answers[7][1].error, "the broken file fails its own entry")
        XCTAssertNil(answers[7][0].error, "and only its own")
        // The log got each request's answers exactly once, as answered.
        let logged = log.batches.flatMap { $0 }
        XCTAssertEqual(logged.map(\.modelId).sorted(), requests.indices.map(Int64.init))
        for entry in logged { XCTAssertEqual(entry.answers, answers[Int(entry.modelId)]) }
    }

    /// Every answered photo is one row of the prediction log, readable as a `PredictionRecord`: its model,
    /// its name, the answer as sent, and when.
    func testThePredictionLogHoldsEachAnsweredPhotoAsARecord() async throws {
        let directory = try StoreFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (service, datasetId) = try await StoreFixtures.serviceWithShapes(in: directory)
        let run = try await service.finishedRun(try await service.startRun(datasetId: datasetId, model: "softmax", options: [:]))
        let modelId = try XCTUnwrap(run.modelId, run.error ?? "")
        let photos = try (0..<3).map { index -> ArchiveEntry in
            let url = directory.appendingPathComponent("source/circle/\(index).png")
            return ArchiveEntry(path: "\(index).png", data: [UInt8](try Data(contentsOf: url)))
        }
        let started = Date()
        var answers = try await service.predict(modelId: modelId, images: Array(photos.prefix(2)), top: 2)
        answers += try await service.predict(modelId: modelId, images: [photos[2]], top: 1)
        let rows = try await service.database.read { try PredictionRecord.order(Column("id")).fetchAll($0) }
        XCTAssertEqual(rows.map(\.inputName), ["0.png", "1.png", "2.png"])
        XCTAssertEqual(rows.map(\.modelId), [modelId, modelId, modelId])
        XCTAssertEqual(try rows.map { try JSONDecoder().decode(FilePrediction.self, from: Data($0.document.utf8)) }, answers)
        for row in rows {
            XCTAssertNotNil(row.id)
            XCTAssertEqual(row.createdAt.timeIntervalSince(started), 0, accuracy: 60, "stored as the time it was answered")
        }
    }

    /// A CNN keeps its working buffers between calls, and the server shares one loaded model between
    /// prediction batches, evaluations and reports: run together, each still gets its own answer.
    func testReportsBesidePredictionsOnOneCNNGetTheAnswersTheyWouldGetAlone() async throws {
        let directory = try StoreFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (service, datasetId) = try await StoreFixtures.serviceWithShapes(in: directory)
        let run = try await service.finishedRun(try await service.startRun(datasetId: datasetId, model: "cnn",
                                                                          options: ["arch": "tiny", "epochs": "1"]))
        let modelId = try XCTUnwrap(run.modelId, run.error ?? "")
        let photos = try (0..<6).map { index -> ArchiveEntry in
            let url = directory.appendingPathComponent("source/circle/\(index).png")
            return ArchiveEntry(path: "\(index).png", data: [UInt8](try Data(contentsOf: url)))
        }
        var alone: [[FilePrediction]] = []
        for photo in photos { alone.append(try await service.predict(modelId: modelId, images: [photo], top: 3)) }
        let report = try await service.reportHTML(modelId: modelId)
        let together = try await withThrowingTaskGroup(of: (Int, [FilePrediction]?, String?).self) { group in
            for round in 0..<4 {
                group.addTask { (round, nil, try await service.reportHTML(modelId: modelId)) }
                for (index, photo) in photos.enumerated() {
                    group.addTask { (index, try await service.predict(modelId: modelId, images: [photo], top: 3), nil) }
                }
            }
            var results: [(Int, [FilePrediction]?, String?)] = []
            for try await result in group { results.append(result) }
            return results
        }
        for (index, answer, html) in together {
            if let answer { XCTAssertEqual(answer, alone[index], "photo \(index)") }
            if let html { XCTAssertEqual(html.count, report.count, "a report made beside predictions") }
        }
    }

    private final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [[PredictionBatcher.Answered]] = []
        func add(_ batch: [PredictionBatcher.Answered]) { lock.withLock { stored.append(batch) } }
        var batches: [[PredictionBatcher.Answered]] { lock.withLock { stored } }
    }
}
