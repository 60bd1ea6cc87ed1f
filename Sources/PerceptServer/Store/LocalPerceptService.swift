import Foundation
import GRDB
import Percept
import PerceptCore

/// `PerceptService` on this machine: records in SQLite (GRDB, WAL) under `dataDirectory`,
/// dataset packs and model files beside it, imports in the background and a training queue.
public final class LocalPerceptService: PerceptService {
    let directory: DataDirectory
    let database: DatabasePool
    let queue: TrainingQueue
    /// An archive may decompress to `expansionFactor` times its size, and at least `minimumBudget` bytes.
    let expansionFactor: Int
    let minimumBudget: Int
    let models: ModelCache
    let packs = PackCache()

    /// Opens (creating and migrating) the store under `dataDirectory` and picks up where a
    /// previous server stopped: runs found running are marked interrupted (their thread died
    /// with it), queued runs are queued again, imports found unfinished are restarted from
    /// their upload or failed when it is gone.
    ///
    /// - Parameters:
    ///   - workers: how many runs train at once.
    ///   - expansionFactor, minimumBudget: the decompression budget of uploaded archives (bombs).
    public init(dataDirectory: URL, workers: Int = 1, expansionFactor: Int = 4, minimumBudget: Int = 256 << 20) throws {
        directory = DataDirectory(root: dataDirectory)
        try directory.create()
        database = try ServerDatabase.open(at: directory.database.path)
        models = ModelCache { [database] in try Self.record($0, in: database) }
        self.expansionFactor = expansionFactor
        self.minimumBudget = minimumBudget
        let training = RunTraining(database: database, directory: directory)
        queue = TrainingQueue(workers: workers) { training.perform(runId: $0, flag: $1) }

        let (queued, importing) = try database.write { db in
            try db.execute(sql: """
                UPDATE run SET state = 'interrupted', finishedAt = ?,
                  error = 'the server stopped during training; start the run again'
                WHERE state = 'running'
                """, arguments: [Date()])
            return (try RunRecord.filter(Column("state") == RunStatus.State.queued.rawValue).order(Column("id")).fetchAll(db),
                    try DatasetRecord.filter(Column("state") == DatasetStatus.State.importing.rawValue).fetchAll(db))
        }
        for dataset in importing {
            guard let id = dataset.id else { continue }
            if FileManager.default.fileExists(atPath: directory.upload(dataset: id).path) {
                startImport(id: id, name: dataset.name, source: .archive)
            } else if FileManager.default.fileExists(atPath: directory.uploadBundle(dataset: id)
                .appendingPathComponent(LabelledFiles.listingName).path) {
                startImport(id: id, name: dataset.name, source: .labelledFiles)
            } else if let folder = dataset.sourceFolder {
                startImport(id: id, name: dataset.name, source: .folder(folder))
            } else {
                try markImportFailed(id, "the server stopped during the import; upload the images again")
            }
        }
        let queue = self.queue
        let runIds = queued.compactMap(\.id)
        if !runIds.isEmpty {
            Task { for id in runIds { await queue.enqueue(id) } }
        }
    }

    // MARK: - Datasets

    public func createDataset(name: String, upload: URL) async throws -> Int64 {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ServiceError.badRequest("a dataset needs a name") }
        guard FileManager.default.fileExists(atPath: upload.path) else {
            throw ServiceError.badRequest("the upload of '\(trimmed)' is missing")
        }
        let id = try await database.write { db in
            var row = DatasetRecord(id: nil, name: trimmed, state: .importing, progress: 0, packFile: nil, imageCount: 0,
                                    labelCounts: [], splitCounts: [:], warnings: [], problems: [], error: nil,
                                    createdAt: Date())
            try row.insert(db)
            return row.id ?? 0
        }
        do {
            try FileManager.default.moveItem(at: upload, to: directory.upload(dataset: id))
        } catch {
            try markImportFailed(id, "the upload could not be stored")
            return id
        }
        startImport(id: id, name: trimmed, source: .archive)
        return id
    }

    public func createDataset(name: String, labelledFiles: [LabelledUpload]) async throws -> Int64 {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw ServiceError.badRequest("a dataset needs a name") }
        guard !labelledFiles.isEmpty else { throw ServiceError.badRequest("no images were sent") }
        let labels = try labelledFiles.map { try LabelledFiles.checkedLabel($0.label, for: $0.displayName) }
        let id = try await insertImportingDataset(name: trimmed)
        let bundle = directory.uploadBundle(dataset: id)
        do {
            try FileManager.default.createDirectory(at: bundle, withIntermediateDirectories: true)
            var listing = LabelledFiles(files: [])
            for (position, file) in labelledFiles.enumerated() {
                // Server-made names: the position and a plain extension, so nothing a client sent becomes a path.
                let extensionPart = (UploadNames.serverFileName(for: file.displayName) as NSString).pathExtension
                let storedName = "\(position + 1)" + (extensionPart.isEmpty ? "" : "." + extensionPart)
                try FileManager.default.moveItem(at: file.url, to: bundle.appendingPathComponent(storedName))
                listing.files.append(.init(label: labels[position], displayName: file.displayName, storedName: storedName))
            }
            try listing.write(to: bundle)
        } catch {
            try? FileManager.default.removeItem(at: bundle)
            try markImportFailed(id, "the uploaded images could not be stored")
            return id
        }
        startImport(id: id, name: trimmed, source: .labelledFiles)
        return id
    }

    public func createDataset(name: String, folder: String) async throws -> Int64 {
        let given = folder.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !given.isEmpty else { throw ServiceError.badRequest("give the path of a folder on this machine") }
        let expanded = (given as NSString).expandingTildeInPath
        guard expanded.hasPrefix("/") else {
            throw ServiceError.badRequest("'\(given)' is not an absolute path: give the folder's full path (e.g. /home/me/photos)")
        }
        let path = URL(fileURLWithPath: expanded).standardized.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ServiceError.badRequest("there is no folder '\(path)' on this machine")
        }
        guard isDirectory.boolValue else {
            throw ServiceError.badRequest("'\(path)' is a file, not a folder: give the folder holding a folder per label "
                + "(or upload the archive instead)")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ServiceError.badRequest("the folder '\(path)' cannot be read by the server (permissions)")
        }
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        let datasetName = trimmed.isEmpty ? URL(fileURLWithPath: path).lastPathComponent : String(trimmed.prefix(200))
        let id = try await insertImportingDataset(name: datasetName, sourceFolder: path)
        startImport(id: id, name: datasetName, source: .folder(path))
        return id
    }

    private func insertImportingDataset(name: String, sourceFolder: String? = nil) async throws -> Int64 {
        try await database.write { db in
            var row = DatasetRecord(id: nil, name: name, state: .importing, progress: 0, packFile: nil, imageCount: 0,
                                    labelCounts: [], splitCounts: [:], warnings: [], problems: [], error: nil,
                                    createdAt: Date(), sourceFolder: sourceFolder)
            try row.insert(db)
            return row.id ?? 0
        }
    }

    public func dataset(_ id: Int64) async throws -> DatasetStatus {
        guard let row = try await database.read({ try DatasetRecord.fetchOne($0, key: id) }) else {
            throw ServiceError.notFound("there is no dataset \(id)")
        }
        return row.status
    }

    public func datasets() async throws -> [DatasetStatus] {
        try await database.read { try DatasetRecord.order(Column("id")).fetchAll($0) }.map(\.status)
    }

    /// Imports on a thread of its own (decoding is blocking CPU work), then records the outcome:
    /// the pack is written before the row that makes the dataset ready.
    /// Where an import reads its images from.
    enum ImportSource: Sendable {
        /// An archive at `upload(dataset:)`.
        case archive
        /// Dropped images in `uploadBundle(dataset:)`.
        case labelledFiles
        /// A folder on this machine (absolute, checked when the dataset was created).
        case folder(String)
    }

    private func startImport(id: Int64, name: String, source: ImportSource) {
        let upload = directory.upload(dataset: id)
        let bundle = directory.uploadBundle(dataset: id)
        let packName = DataDirectory.packName(dataset: id)
        let packPath = directory.pack(named: packName)
        let size = (try? FileManager.default.attributesOfItem(atPath: upload.path)[.size] as? Int) ?? 0
        let budget = max(minimumBudget, size.multipliedReportingOverflow(by: expansionFactor).partialValue)
        let database = self.database
        Thread.detachNewThread {
            let setProgress: (Double) -> Void = { fraction in
                try? database.write {
                    try $0.execute(sql: "UPDATE dataset SET progress = ? WHERE id = ?", arguments: [fraction, id])
                }
            }
            do {
                let imported: ImportedDataset
                switch source {
                case .archive:
                    imported = try DatasetImport.run(upload: upload, name: name, packPath: packPath, byteBudget: budget,
                                                     progress: setProgress)
                case .labelledFiles:
                    imported = try DatasetImport.run(bundle: bundle, name: name, packPath: packPath, progress: setProgress)
                case .folder(let folder):
                    imported = try DatasetImport.run(folder: folder, name: name, packPath: packPath, progress: setProgress)
                }
                try database.write { db in
                    guard var row = try DatasetRecord.fetchOne(db, key: id) else { return }
                    row.state = .ready
                    row.progress = 1
                    row.packFile = packName
                    row.imageCount = imported.imageCount
                    row.labelCounts = imported.labelCounts
                    row.splitCounts = imported.splitCounts
                    row.warnings = imported.warnings
                    row.problems = imported.problems
                    row.splitPlan = .standard
                    row.imageStatistics = imported.imageStatistics
                    try row.update(db)
                }
            } catch {
                let message = ClientMessage.describing(error, hiding: [upload.path: name, bundle.path: name])
                try? database.write { db in
                    try db.execute(sql: "UPDATE dataset SET state = 'failed', error = ? WHERE id = ?", arguments: [message, id])
                }
            }
            // The pack holds everything the dataset needs from here on (a server folder is the user's and stays).
            try? FileManager.default.removeItem(at: upload)
            try? FileManager.default.removeItem(at: bundle)
        }
    }

    private func markImportFailed(_ id: Int64, _ message: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE dataset SET state = 'failed', error = ? WHERE id = ?", arguments: [message, id])
        }
    }

    // MARK: - Runs

    public func startRun(datasetId: Int64, model: String, options: [String: String]) async throws -> Int64 {
        let family: any ModelFamily.Type
        do {
            family = try ModelRegistry.family(named: model)
            try RunTraining.checkClientOptions(options)
            _ = try RunTraining.settings(family, options, checkpoint: nil)
        } catch let error as PerceptError {
            throw ServiceError.badRequest(error.reason)
        }
        let runId = try await database.write { db -> Int64 in
            guard let dataset = try DatasetRecord.fetchOne(db, key: datasetId) else {
                throw ServiceError.notFound("there is no dataset \(datasetId)")
            }
            guard dataset.state == .ready else {
                throw ServiceError.conflict(dataset.state == .importing
                    ? "dataset '\(dataset.name)' is still importing; train once it is ready"
                    : "dataset '\(dataset.name)' failed to import, so it cannot be trained on")
            }
            var run = RunRecord(id: nil, datasetId: datasetId, family: family.name, options: options, state: .queued,
                                progress: 0, message: nil, history: nil, log: "", error: nil, modelId: nil,
                                createdAt: Date(), startedAt: nil, finishedAt: nil, splitPlan: dataset.splitPlan ?? .standard)
            try run.insert(db)
            return run.id ?? 0
        }
        await queue.enqueue(runId)
        return runId
    }

    public func run(_ id: Int64) async throws -> RunStatus {
        try await runRecord(id).status
    }

    public func runs() async throws -> [RunStatus] {
        try await database.read { try RunRecord.order(Column("id")).fetchAll($0) }.map(\.status)
    }

    public func cancelRun(_ id: Int64) async throws {
        let row = try await runRecord(id)
        guard row.state == .queued || row.state == .running else {
            throw ServiceError.conflict("run \(id) has already finished (\(row.state.rawValue))")
        }
        switch await queue.cancel(id) {
        case .signalledWhileRunning:
            break  // The run's thread stops at its next progress line and records `cancelled`.
        case .removedWhileWaiting, .unknown:
            try await database.write { db in
                try db.execute(sql: "UPDATE run SET state = 'cancelled', finishedAt = ? WHERE id = ? AND state IN ('queued', 'running')",
                               arguments: [Date(), id])
            }
        }
    }

    func runRecord(_ id: Int64) async throws -> RunRecord {
        guard let row = try await database.read({ try RunRecord.fetchOne($0, key: id) }) else {
            throw ServiceError.notFound("there is no run \(id)")
        }
        return row
    }

    /// Queues an interrupted run again; a family that checkpoints (the CNN) continues from its
    /// last finished epoch, the others start over.
    public func resumeRun(_ id: Int64) async throws {
        let row = try await runRecord(id)
        guard row.state == .interrupted else {
            throw ServiceError.conflict("run \(id) is \(row.state.rawValue); only an interrupted run can be resumed")
        }
        let resumable = FileManager.default.fileExists(atPath: directory.checkpoint(run: id).path)
        try await database.write { db in
            guard var run = try RunRecord.fetchOne(db, key: id) else { return }
            run.state = .queued
            run.error = nil
            run.finishedAt = nil
            if resumable { run.options["resume"] = "true" }
            try run.update(db)
        }
        await queue.enqueue(id)
    }

    /// Returns once no run is waiting or training (tests; a graceful shutdown).
    public func waitUntilTrainingIdle() async {
        await queue.waitUntilIdle()
    }
}
