import Foundation
import GRDB
import Percept
@testable import PerceptServer
import XCTest

/// The store behind the dataset and model pages: image statistics from the import, split plans
/// (stratified, seeded, source splits kept) that runs and evaluations follow, thumbnails from the
/// pack, per-image test predictions that agree with the evaluation, the HTML report.
final class StoreDatasetDetailTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try StoreFixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func pack(_ service: LocalPerceptService, _ id: Int64) async throws -> Dataset {
        let row = try await service.readyDataset(id)
        return try PackFile.load(service.directory.pack(named: try XCTUnwrap(row.packFile)).path)
    }

    func testImportRecordsSizesAndColourModesAndLeavesUnassignedImagesToThePlan() async throws {
        let (service, id) = try await StoreFixtures.serviceWithShapes(in: directory)
        let status = try await service.dataset(id)
        XCTAssertEqual(status.imageStatistics, ImageStatistics(sizeRanges: [NamedCount(name: "under 32 px", count: 30)],
                                                               colourModes: [NamedCount(name: "RGB", count: 30)],
                                                               commonSizes: [NamedCount(name: "16×16", count: 30)],
                                                               sourceAssignedImages: 0))
        XCTAssertEqual(status.splitPlan, .standard)
        XCTAssertEqual(status.splitCounts, ["train": 24, "validation": 3, "test": 3])
        let stored = try await pack(service, id)
        XCTAssertEqual(Set(stored.splits), [.unassigned], "the pack keeps the source's marks; the plan divides the rest")
        // The standard plan is exactly what every command does with the dataset.
        XCTAssertEqual(try SplitPlan.standard.apply(to: stored).splits, try stored.withStandardSplits(seed: 0).dataset.splits)
    }

    func testColourModesAndSizeRangesAreNamedFromTheDecodersWords() {
        XCTAssertEqual(["gray", "gray+alpha", "rgb", "rgba", "palette", "palette+transparency", "cmyk"].map(ImageStatistics.colourMode),
                       ["grey", "grey+alpha", "RGB", "RGBA", "RGB", "RGBA", "CMYK"])
        func info(_ width: Int, _ height: Int, _ mode: String) -> ImageInfo {
            ImageInfo(format: .png, width: width, height: height, colorMode: mode)
        }
        let statistics = ImageStatistics(infos: [info(640, 480, "rgb"), info(500, 375, "rgb"), info(31, 8, "gray"),
                                                 info(1024, 10, "rgba")],
                                         sourceAssignedImages: 0)
        XCTAssertEqual(statistics.sizeRanges, [NamedCount(name: "under 32 px", count: 1), NamedCount(name: "256–511 px", count: 1),
                                               NamedCount(name: "512–1023 px", count: 1), NamedCount(name: "1024 px and more", count: 1)])
        XCTAssertEqual(statistics.colourModes, [NamedCount(name: "RGB", count: 2), NamedCount(name: "RGBA", count: 1),
                                                NamedCount(name: "grey", count: 1)])
    }

    func testANewSplitRedoesTheLeakageWarning() async throws {
        let service = try LocalPerceptService(dataDirectory: directory.appendingPathComponent("data"))
        let source = directory.appendingPathComponent("source")
        try StoreFixtures.writeImages(to: source)
        // One image twice: whether it leaks depends on the split.
        try FileManager.default.copyItem(at: source.appendingPathComponent("circle/0.png"),
                                         to: source.appendingPathComponent("circle/copy.png"))
        let id = try await service.createDataset(name: "shapes", folder: source.path)
        let imported = try await service.importedDataset(id)
        XCTAssertEqual(imported.state, .ready, imported.error ?? "")
        let stored = try await pack(service, id)
        let copies = stored.sources.indices.filter { $0 == stored.sources.firstIndex { $0.hasSuffix("circle/0.png") }
                                                    || stored.sources[$0].hasSuffix("circle/copy.png") }
        XCTAssertEqual(copies.count, 2)
        var seen: Set<Bool> = []
        for seed in 0..<40 where seen.count < 2 {
            let plan = SplitPlan(train: 50, validation: 20, test: 30, seed: UInt64(seed))
            let splits = try plan.apply(to: stored).splits
            let leaks = splits[copies[0]] != splits[copies[1]]
            let status = try await service.setSplitPlan(datasetId: id, plan: plan)
            XCTAssertEqual(status.warnings.filter { $0.kind == "leakage" }.count, leaks ? 1 : 0, "seed \(seed): \(status.warnings)")
            XCTAssertEqual(status.warnings.filter { $0.kind == "duplicates" }.count, 1, "the copies are still copies")
            seen.insert(leaks)
        }
        XCTAssertEqual(seen, [true, false], "some seed puts the copies in one split and some in two")
    }

    func testANewSplitIsStratifiedAndRunsAndEvaluationsFollowThePlanTheyWereQueuedWith() async throws {
        let (service, id) = try await StoreFixtures.serviceWithShapes(in: directory)
        let plan = SplitPlan(train: 60, validation: 20, test: 20, seed: 3)
        let changed = try await service.setSplitPlan(datasetId: id, plan: plan)
        XCTAssertEqual(changed.splitPlan, plan)
        XCTAssertEqual(changed.splitCounts, ["train": 18, "validation": 6, "test": 6])
        let stored = try await pack(service, id)
        let assigned = try plan.apply(to: stored)
        for label in 0..<3 {
            let tests = assigned.splits.indices.filter { assigned.labels[$0] == Int32(label) && assigned.splits[$0] == .test }
            XCTAssertEqual(tests.count, 2, "stratified: 20% of each label's 10 images")
        }
        XCTAssertNotEqual(try SplitPlan(train: 60, validation: 20, test: 20, seed: 4).apply(to: stored).splits, assigned.splits,
                          "the seed decides which images")
        do {
            _ = try await service.setSplitPlan(datasetId: id, plan: SplitPlan(train: 80, validation: 20, test: 20, seed: 0))
            XCTFail("a plan over 100% was accepted")
        } catch let error as ServiceError {
            guard case .badRequest = error else { return XCTFail("\(error)") }
        }

        let runId = try await service.startRun(datasetId: id, model: "knn", options: ["k": "1"])
        let run = try await service.finishedRun(runId)
        XCTAssertEqual(run.state, .succeeded, run.error ?? "")
        let modelId = try XCTUnwrap(run.modelId)
        // Changed after the run was queued: the run and its evaluation keep the split it trained on.
        _ = try await service.setSplitPlan(datasetId: id, plan: .standard)
        let runRow = try await service.runRecord(runId)
        XCTAssertEqual(runRow.splitPlan, plan)
        let evaluation = try await service.evaluation(modelId: modelId)
        XCTAssertEqual(evaluation.images, 6)

        // The per-image predictions are the test split's images, and agree with the evaluation.
        let predictions = try await service.testPredictions(modelId: modelId)
        XCTAssertEqual(predictions.datasetId, id)
        XCTAssertEqual(predictions.items.map(\.index), assigned.splits.indices.filter { assigned.splits[$0] == .test })
        var confusion = [[Int]](repeating: [0, 0, 0], count: 3)
        for item in predictions.items {
            XCTAssertEqual(item.truth, Int(assigned.labels[item.index]))
            XCTAssertEqual(item.probabilities.count, 3)
            XCTAssertEqual(item.probabilities.reduce(0, +), 1, accuracy: 1e-3)
            XCTAssertEqual(item.probabilities.indices.max { item.probabilities[$0] < item.probabilities[$1] }.map { item.probabilities[$0] },
                           item.confidence, "the prediction is the most probable class")
            confusion[item.truth][item.predicted] += 1
        }
        XCTAssertEqual(confusion, evaluation.confusion.counts)
        let kept = try await service.database.read { try EvaluationRecord.fetchOne($0, key: modelId) }
        XCTAssertNotNil(kept?.predictions, "computed once and stored")

        let laterRun = try await service.startRun(datasetId: id, model: "knn", options: ["k": "1"])
        let later = try await service.finishedRun(laterRun)
        let laterEvaluation = try await service.evaluation(modelId: try XCTUnwrap(later.modelId))
        XCTAssertEqual(laterEvaluation.images, 3, "a run queued after the change uses the new split")

        let report = try await service.reportHTML(modelId: modelId)
        for expected in ["Evaluation on the test split", "Confusion matrix", "shapes", "<!DOCTYPE html>"] {
            XCTAssertTrue(report.contains(expected), expected)
        }
        XCTAssertFalse(report.contains(directory.path), "the report names no server folder")
    }

    func testSplitsTheSourceAssignedAreKeptWhateverThePlan() async throws {
        let service = try LocalPerceptService(dataDirectory: directory.appendingPathComponent("data"))
        let source = directory.appendingPathComponent("source")
        try StoreFixtures.writeImages(to: source.appendingPathComponent("train"), perLabel: 8)
        try StoreFixtures.writeImages(to: source.appendingPathComponent("test"), perLabel: 2)
        let upload = directory.appendingPathComponent("split.tar.gz")
        try StoreFixtures.tarGz(["train", "test"], in: source, to: upload)
        let id = try await service.createDataset(name: "split", upload: upload)
        let status = try await service.importedDataset(id)
        XCTAssertEqual(status.state, .ready, status.error ?? "")
        XCTAssertEqual(status.imageStatistics?.sourceAssignedImages, 30)
        XCTAssertEqual(status.splitCounts?["test"], 6)
        let stored = try await pack(service, id)
        let sourceTests = stored.splits.indices.filter { stored.splits[$0] == .test }
        for plan in [SplitPlan(train: 50, validation: 25, test: 25, seed: 1), SplitPlan(train: 90, validation: 5, test: 5, seed: 2)] {
            let changed = try await service.setSplitPlan(datasetId: id, plan: plan)
            XCTAssertEqual(changed.splitCounts?["test"], 6, plan.summary)
            XCTAssertEqual((changed.splitCounts?["train"] ?? 0) + (changed.splitCounts?["validation"] ?? 0), 24)
            let assigned = try plan.apply(to: stored)
            XCTAssertEqual(assigned.splits.indices.filter { assigned.splits[$0] == .test }, sourceTests)
        }
    }

    func testThumbnailsComeFromThePackAndImagesAreItsPixels() async throws {
        let (service, id) = try await StoreFixtures.serviceWithShapes(in: directory)
        let stored = try await pack(service, id)
        let groups = try await service.thumbnails(datasetId: id, perLabel: 4)
        XCTAssertEqual(groups.map(\.label), ["circle", "square", "triangle"])
        for (label, group) in groups.enumerated() {
            XCTAssertEqual(group.indices.count, 4)
            XCTAssertTrue(group.indices.allSatisfy { stored.labels[$0] == Int32(label) }, group.label)
        }
        let index = groups[1].indices[2]
        let png = try await service.datasetImagePNG(datasetId: id, index: index)
        let decoded = try ImageDecoder().decode(png, path: "thumbnail")
        XCTAssertEqual(decoded.image.pixels, stored.image(at: index).pixels)
        do {
            _ = try await service.datasetImagePNG(datasetId: id, index: stored.count)
            XCTFail("an index past the end was served")
        } catch let error as ServiceError {
            guard case .notFound = error else { return XCTFail("\(error)") }
        }
    }

    func testTheV2MigrationKeepsAV1DatabaseAndItsDatasetsGetTheStandardPlan() throws {
        let path = directory.appendingPathComponent("percept.sqlite").path
        let old = try DatabasePool(path: path)
        try ServerDatabase.migrator.migrate(old, upTo: "v1")
        try old.write { db in
            try db.execute(sql: """
                INSERT INTO dataset (name, state, progress, packFile, imageCount, labelCounts, splitCounts, warnings, problems, createdAt)
                VALUES ('old', 'ready', 1, '1.pack', 3, '[{"name":"a","count":3}]', '{"train":3}', '[]', '[]', '2026-01-01 00:00:00')
                """)
        }
        try old.close()
        let upgraded = try ServerDatabase.open(at: path)
        XCTAssertEqual(try upgraded.read { try ServerDatabase.migrator.appliedIdentifiers($0) }, ["v1", "v2"])
        let row = try XCTUnwrap(try upgraded.read { try DatasetRecord.fetchOne($0) })
        XCTAssertNil(row.splitPlan)
        XCTAssertNil(row.imageStatistics)
        XCTAssertEqual(row.status.splitPlan, .standard)
        XCTAssertEqual(row.status.splitCounts, ["train": 3])
    }
}

/// Datasets from images sent one by one and from a folder on the server machine, through the real store.
final class StoreOtherSourcesTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try StoreFixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func expectBadRequest(_ expected: String, _ body: () async throws -> Void,
                                  file: StaticString = #filePath, line: UInt = #line) async {
        do {
            try await body()
            XCTFail("accepted", file: file, line: line)
        } catch ServiceError.badRequest(let message) {
            XCTAssertTrue(message.contains(expected), message, file: file, line: line)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
    }

    func testLabelledFilesBecomeADatasetWithThoseLabels() async throws {
        let service = try LocalPerceptService(dataDirectory: directory.appendingPathComponent("data"))
        let source = directory.appendingPathComponent("source")
        try StoreFixtures.writeImages(to: source, labels: ["circle", "square"], perLabel: 6)
        var uploads: [LabelledUpload] = []
        for label in ["circle", "square"] {
            for index in 0..<6 {
                // As the receiver leaves them: server-made names that say nothing of the label.
                let temporary = directory.appendingPathComponent("upload-\(UUID().uuidString).png")
                try FileManager.default.copyItem(at: source.appendingPathComponent("\(label)/\(index).png"), to: temporary)
                uploads.append(LabelledUpload(label: label == "circle" ? "round thing" : label, displayName: "\(index).png",
                                              url: temporary))
            }
        }
        let broken = directory.appendingPathComponent("upload-broken.png")
        try Data("not a png".utf8).write(to: broken)
        uploads.append(LabelledUpload(label: "square", displayName: "broken.png", url: broken))
        let id = try await service.createDataset(name: "dropped", labelledFiles: uploads)
        let status = try await service.importedDataset(id)
        XCTAssertEqual(status.state, .ready, status.error ?? "")
        XCTAssertEqual(status.classes, [.init(name: "round thing", count: 6), .init(name: "square", count: 6)])
        XCTAssertEqual(status.problems.count, 1)
        XCTAssertTrue(status.problems.first?.path.hasSuffix("broken.png") == true, "\(status.problems)")
        XCTAssertFalse(status.problems.first?.path.contains(directory.path) == true, "no server path in a problem")
        XCTAssertFalse(FileManager.default.fileExists(atPath: service.directory.uploadBundle(dataset: id).path),
                       "the dropped files are removed once packed")
        await expectBadRequest("cannot be used") {
            _ = try await service.createDataset(name: "bad", labelledFiles: [LabelledUpload(label: "a/b", displayName: "x.png", url: broken)])
        }
    }

    func testReopeningRestartsDroppedFileAndFolderImportsAKilledServerLeft() async throws {
        let data = directory.appendingPathComponent("data")
        let first = try LocalPerceptService(dataDirectory: data)
        let source = directory.appendingPathComponent("source")
        try StoreFixtures.writeImages(to: source, labels: ["circle", "square"], perLabel: 4)
        // Two imports a killed server left behind (rows by hand): dropped files with their listing, and a folder.
        let (dropped, folder) = try await first.database.write { db -> (Int64, Int64) in
            var droppedRow = DatasetRecord(id: nil, name: "dropped", state: .importing, progress: 0.3, packFile: nil, imageCount: 0,
                                           labelCounts: [], splitCounts: [:], warnings: [], problems: [], error: nil,
                                           createdAt: Date())
            try droppedRow.insert(db)
            var folderRow = droppedRow
            folderRow.id = nil
            folderRow.name = "folder"
            folderRow.sourceFolder = source.path
            try folderRow.insert(db)
            return (try XCTUnwrap(droppedRow.id), try XCTUnwrap(folderRow.id))
        }
        let bundle = first.directory.uploadBundle(dataset: dropped)
        try FileManager.default.createDirectory(at: bundle, withIntermediateDirectories: true)
        var listing = LabelledFiles(files: [])
        for (position, label) in ["circle", "circle", "circle", "square", "square", "square"].enumerated() {
            try FileManager.default.copyItem(at: source.appendingPathComponent("\(label)/\(position % 3).png"),
                                             to: bundle.appendingPathComponent("\(position + 1).png"))
            listing.files.append(.init(label: label, displayName: "\(position % 3).png", storedName: "\(position + 1).png"))
        }
        try listing.write(to: bundle)

        let reopened = try LocalPerceptService(dataDirectory: data)
        let droppedStatus = try await reopened.importedDataset(dropped)
        XCTAssertEqual(droppedStatus.state, .ready, droppedStatus.error ?? "")
        XCTAssertEqual(droppedStatus.classes, [.init(name: "circle", count: 3), .init(name: "square", count: 3)])
        let folderStatus = try await reopened.importedDataset(folder)
        XCTAssertEqual(folderStatus.state, .ready, folderStatus.error ?? "")
        XCTAssertEqual(folderStatus.imageCount, 8)
    }

    func testAFolderOnTheServerIsImportedWhereItIs() async throws {
        let service = try LocalPerceptService(dataDirectory: directory.appendingPathComponent("data"))
        let source = directory.appendingPathComponent("my photos")
        try StoreFixtures.writeImages(to: source, perLabel: 5)
        let id = try await service.createDataset(name: "", folder: source.path + "/")
        let status = try await service.importedDataset(id)
        XCTAssertEqual(status.state, .ready, status.error ?? "")
        XCTAssertEqual(status.name, "my photos")
        XCTAssertEqual(status.imageCount, 15)
        XCTAssertTrue(FileManager.default.fileExists(atPath: source.appendingPathComponent("circle/0.png").path),
                      "the user's folder is left as it was")

        await expectBadRequest("there is no folder") { _ = try await service.createDataset(name: "x", folder: source.path + "-missing") }
        await expectBadRequest("is a file") {
            _ = try await service.createDataset(name: "x", folder: source.appendingPathComponent("circle/0.png").path)
        }
        await expectBadRequest("not an absolute path") { _ = try await service.createDataset(name: "x", folder: "my photos") }
        let count = try await service.datasets().count
        XCTAssertEqual(count, 1, "a refused folder makes no dataset")
    }
}

/// A run's budget as a time limit instead of epochs, and the curve its epochs leave.
final class StoreRunBudgetTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try StoreFixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testACNNWithATimeLimitStopsEarlyAndKeepsAModelAndItsCurve() async throws {
        let (service, id) = try await StoreFixtures.serviceWithShapes(in: directory)
        let runId = try await service.startRun(datasetId: id, model: "cnn",
                                               options: ["epochs": "100000", "batch": "8", "time-limit": "1"])
        let run = try await service.finishedRun(runId, timeout: 300)
        XCTAssertEqual(run.state, .succeeded, run.error ?? "")
        let row = try await service.runRecord(runId)
        let history = try JSONDecoder().decode(TrainingHistory.self, from: Data(try XCTUnwrap(row.history).utf8))
        XCTAssertLessThan(history.epochs.count, 100_000, "the time limit ended training")
        let curve = try XCTUnwrap(row.curve)
        XCTAssertFalse(curve.isEmpty)
        XCTAssertEqual(curve.map(\.epoch), Array(1...curve.count), "one point per epoch, in order")
        XCTAssertNotNil(run.modelId)
    }
}
