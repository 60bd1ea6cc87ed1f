import Foundation
import GRDB
import Percept
@testable import PerceptServer
import XCTest

/// Runs through the service: training, its model's evaluation and predictions, refusals,
/// cancelling, and a restart after a kill.
final class TrainingQueueTests: XCTestCase {
    var directory: URL!
    var dataDirectory: URL { directory.appendingPathComponent("data") }

    override func setUpWithError() throws { directory = try StoreFixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// A service with one ready dataset of 3 labels × 10 shapes (16×16).
    private func serviceWithDataset(workers: Int = 1) async throws -> (LocalPerceptService, Int64) {
        try await StoreFixtures.serviceWithShapes(in: directory, workers: workers)
    }

    private func assertServiceError(_ expected: (ServiceError) -> Bool, _ body: () async throws -> Void,
                                    file: StaticString = #filePath, line: UInt = #line) async {
        do {
            try await body()
            XCTFail("no error", file: file, line: line)
        } catch let error as ServiceError {
            XCTAssertTrue(expected(error), "\(error)", file: file, line: line)
        } catch {
            XCTFail("not a ServiceError: \(error)", file: file, line: line)
        }
    }

    func testKNNRunSucceedsAndItsModelEvaluatesAndPredicts() async throws {
        let (service, datasetId) = try await serviceWithDataset()
        let runId = try await service.startRun(datasetId: datasetId, model: "knn", options: ["k": "1"])
        let first = try await service.run(runId)
        XCTAssertTrue([.queued, .running, .succeeded].contains(first.state), "\(first.state)")
        let run = try await service.finishedRun(runId)
        XCTAssertEqual(run.state, .succeeded, run.error ?? "")
        XCTAssertEqual(run.progress, 1)
        XCTAssertEqual(run.model, "knn")
        XCTAssertEqual(run.options, ["k": "1"])
        let modelId = try XCTUnwrap(run.modelId)
        let row = try await service.runRecord(runId)
        XCTAssertNotNil(row.startedAt)
        XCTAssertNotNil(row.finishedAt)
        XCTAssertTrue(row.log.contains("training"), row.log)

        let file = try await service.modelFile(modelId)
        let saved = try SavedModel.load(file.path)
        XCTAssertEqual(saved.classNames, ["circle", "square", "triangle"])
        XCTAssertEqual(saved.metadata["dataset"], "shapes")

        let evaluation = try await service.evaluation(modelId: modelId)
        XCTAssertEqual(evaluation.images, 3, "the test split: 10% of each label")
        XCTAssertEqual(evaluation.confusion.counts.flatMap { $0 }.reduce(0, +), 3)
        let cached = try await service.evaluation(modelId: modelId)
        XCTAssertEqual(cached.accuracy, evaluation.accuracy)
        let evaluationRows = try await service.database.read { try EvaluationRecord.fetchCount($0) }
        XCTAssertEqual(evaluationRows, 1)

        // A training image predicts its own label (k = 1), under the name the client gave it.
        let photo = directory.appendingPathComponent("my-square.png")
        let shapes = SyntheticShapes(imageSize: ImageSize(width: 16, height: 16), seed: 7)
        try Data(shapes.image(index: 0, label: 1).pngData()).write(to: photo)
        let broken = directory.appendingPathComponent("broken.png")
        try Data("nope".utf8).write(to: broken)
        let images = try [photo, broken].map { ArchiveEntry(path: $0.lastPathComponent, data: [UInt8](try Data(contentsOf: $0))) }
        let answers = try await service.predict(modelId: modelId, images: images, top: 2)
        XCTAssertEqual(answers.map(\.path), ["my-square.png", "broken.png"])
        XCTAssertEqual(answers[0].top.count, 2)
        XCTAssertNotNil(answers[1].error)
        XCTAssertFalse(answers[1].error?.contains(directory.path) == true, answers[1].error ?? "")
        let predictionRows = try await service.database.read { try PredictionRecord.fetchCount($0) }
        XCTAssertEqual(predictionRows, 2)

        await assertServiceError({ $0 == .notFound("there is no model 999") }) { _ = try await service.evaluation(modelId: 999) }
        await assertServiceError({ if case .badRequest = $0 { true } else { false } }) {
            _ = try await service.predict(modelId: modelId, images: images, top: 0)
        }
    }

    func testUnknownFamilyAndBadOptionsAreBadRequests() async throws {
        let (service, datasetId) = try await serviceWithDataset()
        let isBadRequest: (ServiceError) -> Bool = { if case .badRequest = $0 { true } else { false } }
        await assertServiceError(isBadRequest) { _ = try await service.startRun(datasetId: datasetId, model: "gpt", options: [:]) }
        await assertServiceError(isBadRequest) { _ = try await service.startRun(datasetId: datasetId, model: "knn", options: ["k": "zero"]) }
        await assertServiceError(isBadRequest) { _ = try await service.startRun(datasetId: datasetId, model: "knn", options: ["colour": "1"]) }
        await assertServiceError(isBadRequest) {
            _ = try await service.startRun(datasetId: datasetId, model: "cnn", options: ["checkpoint": "x.ckpt"])
        }
        await assertServiceError(isBadRequest) {
            _ = try await service.startRun(datasetId: datasetId, model: "cnn", options: ["arch": "/etc/passwd"])
        }
        await assertServiceError({ $0 == .notFound("there is no dataset 42") }) {
            _ = try await service.startRun(datasetId: 42, model: "knn", options: [:])
        }
        let runCount = try await service.runs().count
        XCTAssertEqual(runCount, 0)
    }

    func testTrainingOnAnImportingOrFailedDatasetIsAConflict() async throws {
        let service = try LocalPerceptService(dataDirectory: dataDirectory)
        let ids = try await service.database.write { db in
            try [DatasetStatus.State.importing, .failed].map { state in
                var row = DatasetRecord(id: nil, name: "d-\(state.rawValue)", state: state, progress: 0, packFile: nil,
                                        imageCount: 0, labelCounts: [], splitCounts: [:], warnings: [], problems: [],
                                        error: nil, createdAt: Date())
                try row.insert(db)
                return try XCTUnwrap(row.id)
            }
        }
        for id in ids {
            await assertServiceError({ if case .conflict = $0 { true } else { false } }) {
                _ = try await service.startRun(datasetId: id, model: "knn", options: [:])
            }
        }
    }

    func testCancelAWaitingRunAndARunningOne() async throws {
        let (service, datasetId) = try await serviceWithDataset(workers: 1)
        // A CNN with far more epochs than the test waits for: cancelled while it trains.
        let long = try await service.startRun(datasetId: datasetId, model: "cnn", options: ["epochs": "100000"])
        let waiting = try await service.startRun(datasetId: datasetId, model: "knn", options: [:])
        let waitingState = try await service.run(waiting).state
        XCTAssertEqual(waitingState, .queued, "one worker: the second run waits")
        try await service.cancelRun(waiting)
        let stateAfterCancel = try await service.run(waiting).state
        XCTAssertEqual(stateAfterCancel, .cancelled)

        _ = try await waitFor("the CNN to report progress") {
            let status = try await service.run(long)
            return status.state == .running && status.message?.hasPrefix("epoch") == true ? status : nil
        }
        try await service.cancelRun(long)
        let cancelled = try await service.finishedRun(long, timeout: 60)
        XCTAssertEqual(cancelled.state, .cancelled, cancelled.error ?? "")
        XCTAssertNil(cancelled.modelId)
        XCTAssertNil(cancelled.error)
        await assertServiceError({ if case .conflict = $0 { true } else { false } }) { try await service.cancelRun(long) }
        await assertServiceError({ if case .notFound = $0 { true } else { false } }) { try await service.cancelRun(12345) }
        await service.waitUntilTrainingIdle()
        let stateWhenIdle = try await service.run(waiting).state
        XCTAssertEqual(stateWhenIdle, .cancelled, "a cancelled run never starts")
    }

    func testReopeningMarksARunningRunInterruptedAndResumeRunsItAgain() async throws {
        let (service, datasetId) = try await serviceWithDataset()
        // A run the killed server left `running` (inserted by hand: nothing trains it).
        let runId = try await service.database.write { db in
            var row = RunRecord(id: nil, datasetId: datasetId, family: "knn", options: [:], state: .running, progress: 0.4,
                                message: "epoch 2/5", history: nil, log: "", error: nil, modelId: nil, createdAt: Date(),
                                startedAt: Date(), finishedAt: nil)
            try row.insert(db)
            return try XCTUnwrap(row.id)
        }
        let reopened = try LocalPerceptService(dataDirectory: dataDirectory)
        let interrupted = try await reopened.run(runId)
        XCTAssertEqual(interrupted.state, .interrupted)
        XCTAssertNotNil(interrupted.error)
        let datasetState = try await reopened.dataset(datasetId).state
        XCTAssertEqual(datasetState, .ready, "committed data survives the restart")

        try await reopened.resumeRun(runId)
        let resumed = try await reopened.finishedRun(runId)
        XCTAssertEqual(resumed.state, .succeeded, resumed.error ?? "")
        XCTAssertNotNil(resumed.modelId)
        await assertServiceError({ if case .conflict = $0 { true } else { false } }) { try await reopened.resumeRun(runId) }
    }

    func testAnInterruptedCNNRunResumesFromItsCheckpoint() async throws {
        let (service, datasetId) = try await serviceWithDataset()
        let runId = try await service.startRun(datasetId: datasetId, model: "cnn", options: ["epochs": "40", "batch": "8"])
        let checkpoint = service.directory.checkpoint(run: runId)
        let saved = directory.appendingPathComponent("saved.ckpt")
        // The checkpoint is written atomically after each epoch: copy one, then stop the run as a kill would.
        _ = try await waitFor("the first epoch's checkpoint") {
            FileManager.default.fileExists(atPath: checkpoint.path) ? true : nil
        }
        try FileManager.default.copyItem(at: checkpoint, to: saved)
        try await service.cancelRun(runId)
        _ = try await service.finishedRun(runId)
        XCTAssertFalse(FileManager.default.fileExists(atPath: checkpoint.path), "a cancelled run's checkpoint is removed")
        try FileManager.default.copyItem(at: saved, to: checkpoint)
        try await service.database.write { db in
            try db.execute(sql: "UPDATE run SET state = 'running' WHERE id = ?", arguments: [runId])
        }

        let restarted = try LocalPerceptService(dataDirectory: dataDirectory)
        let interruptedState = try await restarted.run(runId).state
        XCTAssertEqual(interruptedState, .interrupted)
        try await restarted.resumeRun(runId)
        let resumed = try await restarted.finishedRun(runId)
        XCTAssertEqual(resumed.state, .succeeded, resumed.error ?? "")
        XCTAssertEqual(resumed.options["resume"], "true")
        let row = try await restarted.runRecord(runId)
        XCTAssertFalse(row.log.contains("epoch 1/40"), "the resumed run starts after the checkpointed epoch:\n\(row.log)")
        let history = try JSONDecoder().decode(TrainingHistory.self, from: Data(try XCTUnwrap(row.history).utf8))
        XCTAssertEqual(history.epochs.count, 40)
        // The curve kept the epochs from before the kill and added the resumed ones, each once.
        let curve = try XCTUnwrap(row.curve)
        XCTAssertEqual(curve.map(\.epoch), Array(1...40))
        XCTAssertTrue(curve.allSatisfy { $0.loss != nil && $0.validationAccuracy != nil }, "\(curve)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: checkpoint.path), "a finished run's checkpoint is removed")
    }

    func testProgressFractionIsReadFromCounts() {
        XCTAssertEqual(try XCTUnwrap(ProgressRecorder.fraction(in: "epoch 3/10 step 1/4  loss 1.2")), 0.225, accuracy: 1e-12)
        XCTAssertEqual(ProgressRecorder.fraction(in: "epoch 10/10 step 4/4"), 1)
        XCTAssertEqual(ProgressRecorder.fraction(in: "setting 1 / 4"), 0.25)
        XCTAssertNil(ProgressRecorder.fraction(in: "extracting hog features …"))
        XCTAssertNil(ProgressRecorder.fraction(in: "5/0"))
    }
}

/// The queue alone, with stand-in work that holds each run until released.
final class TrainingQueueOrderTests: XCTestCase {
    func testAtMostWorkersRunAtOnceInOrderAndCancelSignalsTheRunningOne() async throws {
        let log = StartLog()
        let queue = TrainingQueue(workers: 2) { id, flag in
            log.started(id)
            while !flag.isCancelled { usleep(1000) }
        }
        for id: Int64 in 1...4 { await queue.enqueue(id) }
        _ = try await waitFor("two runs to start") { log.ids.count == 2 ? true : nil }
        XCTAssertEqual(Set(log.ids), [1, 2], "the first two, started together on their own threads")
        let runningCount = await queue.runningCount
        XCTAssertEqual(runningCount, 2)
        let cancellingFour = await queue.cancel(4)
        XCTAssertEqual(cancellingFour, .removedWhileWaiting)
        let cancellingOne = await queue.cancel(1)
        XCTAssertEqual(cancellingOne, .signalledWhileRunning)
        _ = try await waitFor("run 3 to take run 1's place") { log.ids.count == 3 ? true : nil }
        XCTAssertEqual(log.ids.last, 3)
        let cancellingTwo = await queue.cancel(2)
        XCTAssertEqual(cancellingTwo, .signalledWhileRunning)
        let cancellingThree = await queue.cancel(3)
        XCTAssertEqual(cancellingThree, .signalledWhileRunning)
        await queue.waitUntilIdle()
        XCTAssertEqual(log.ids.sorted(), [1, 2, 3], "the cancelled waiting run never started")
        let afterFinishing = await queue.cancel(1)
        XCTAssertEqual(afterFinishing, .unknown)
    }
}

/// Which stand-in runs started, in order (written from the queue's threads).
final class StartLog: @unchecked Sendable {
    private let lock = NSLock()
    private var started: [Int64] = []
    func started(_ id: Int64) { lock.withLock { started.append(id) } }
    var ids: [Int64] { lock.withLock { started } }
}
