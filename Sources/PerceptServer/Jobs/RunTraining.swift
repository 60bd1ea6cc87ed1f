import Foundation
import GRDB
import Percept
import PerceptCore
import PerceptData
import PerceptModelKit

/// Thrown by the progress callback once a run is cancelled, to stop the family's training loop.
struct RunCancelled: Error {}

/// Trains one queued run as `percept train` does — the dataset's own train and validation
/// splits, the family from the registry — persisting its progress, then writes the model file
/// (atomically) before the rows that point at it.
struct RunTraining: Sendable {
    let database: DatabasePool
    let directory: DataDirectory
    /// Progress rows are written at most this often; lines in between are kept for the log.
    var progressInterval: TimeInterval = 0.25

    func perform(runId: Int64, flag: CancelFlag) {
        let started: RunRecord?
        do {
            started = try database.write { db -> RunRecord? in
                // Cancelled (or gone) while waiting: nothing to do.
                guard var run = try RunRecord.fetchOne(db, key: runId), run.state == .queued else { return nil }
                run.state = .running
                run.startedAt = Date()
                try run.update(db)
                return run
            }
        } catch {
            return
        }
        guard let run = started else { return }
        // A resumed run keeps the curve of the epochs it already trained.
        let recorder = ProgressRecorder(database: database, runId: runId, flag: flag, interval: progressInterval,
                                        curve: run.curve ?? [])
        do {
            try train(run, recorder: recorder)
        } catch {
            let cancelled = error is RunCancelled || flag.isCancelled
            let message = cancelled ? nil : ClientMessage.describing(error, hiding: [directory.root.path: "<data>"])
            // Only a run the server was killed in keeps its checkpoint (to resume); this one is over.
            try? FileManager.default.removeItem(at: directory.checkpoint(run: runId))
            try? database.write { db in
                guard var row = try RunRecord.fetchOne(db, key: runId) else { return }
                row.state = cancelled ? .cancelled : .failed
                row.error = message
                row.log = recorder.log
                row.curve = recorder.curve.isEmpty ? row.curve : recorder.curve
                row.finishedAt = Date()
                try row.update(db)
            }
        }
    }

    private func train(_ run: RunRecord, recorder: ProgressRecorder) throws {
        guard let runId = run.id else { return }
        let datasetRow = try database.read { try DatasetRecord.fetchOne($0, key: run.datasetId) }
        guard let datasetRow, let packFile = datasetRow.packFile else {
            throw PerceptError.invalidData("dataset \(run.datasetId) is not ready")
        }
        let family = try ModelRegistry.family(named: run.family)
        let (settings, seed) = try Self.settings(family, run.options, checkpoint: directory.checkpoint(run: runId))
        // The split the run was queued with: the dataset's plan then (runs from before plans: the pack's own splits).
        var dataset = try (run.splitPlan ?? .standard).apply(to: PackFile.load(directory.pack(named: packFile).path))
        // As `percept train`: images larger than the family's input are fitted to it, smaller keep their size.
        let input = family.defaultInputSize
        if dataset.width > input.width || dataset.height > input.height {
            dataset = try dataset.resized(to: input, mode: .squash)
        }
        let (splits, _) = try dataset.standardSplits(seed: seed)
        guard !splits.train.isEmpty else { throw PerceptError.invalidData("the training split is empty") }
        try recorder.record("training \(family.recipeName(settings)) on \(splits.train.count) images, "
                            + "validating on \(splits.validation.count)")
        let job = TrainingJob(train: splits.train, validation: splits.validation, seed: seed) { try recorder.record($0) }
        let trained = try family.train(settings, job)
        if recorder.flag.isCancelled { throw RunCancelled() }

        var metadata = [
            "dataset": datasetRow.name, "seed": String(seed), "trainImages": String(splits.train.count),
            "validationImages": String(splits.validation.count), "testImages": String(splits.test.count),
            "trainedAt": ISO8601DateFormatter().string(from: Date()), "trainingSeconds": String(format: "%.3f", trained.seconds),
            "recipe": family.recipeName(settings), "family": family.name,
            "validationFraction": String(StandardSplit.validationFraction),
        ]
        if let accuracy = trained.validationAccuracy { metadata["validationAccuracy"] = String(accuracy) }
        if let history = trained.historyJSON { metadata["history"] = history }
        let fileName = DataDirectory.modelName(run: runId)
        // The file first (atomically), then the rows: the database never points at half a model.
        try ModelFile.write(trained.model, to: directory.model(named: fileName).path,
                            resizeMode: ResizeMode.squash.rawValue, metadata: metadata)
        let accuracyLine = trained.validationAccuracy.map { String(format: "validation accuracy %.2f%%", $0 * 100) }
        try database.write { db in
            var model = ModelRecord(id: nil, runId: runId, fileName: fileName, family: family.name,
                                    classes: trained.model.classNames, createdAt: Date())
            try model.insert(db)
            guard var row = try RunRecord.fetchOne(db, key: runId) else { return }
            row.state = .succeeded
            row.progress = 1
            row.modelId = model.id
            row.history = trained.historyJSON
            row.message = accuracyLine ?? row.message
            row.log = recorder.log + (accuracyLine.map { "\n" + $0 } ?? "")
            row.curve = recorder.curve.isEmpty ? nil : recorder.curve
            row.finishedAt = Date()
            try row.update(db)
        }
        try? FileManager.default.removeItem(at: directory.checkpoint(run: runId))
    }

    /// Options a client may not give: the server names its checkpoint files itself, and no
    /// option value may point at a file on the server (`arch` takes a JSON file's path too).
    static func checkClientOptions(_ options: [String: String]) throws {
        for name in ["checkpoint", "resume"] where options[name] != nil {
            throw PerceptError.invalidArgument("the server manages checkpoints itself; remove the option '\(name)'")
        }
        for (name, value) in options where value.contains("/") || value.contains("\\") || value.hasPrefix(".") {
            throw PerceptError.invalidArgument("option '\(name)' looks like a file path ('\(value)'); the web app takes no paths")
        }
    }

    /// The family's settings from the run's options; `seed` is the run's own, not the family's.
    /// Families that checkpoint (the CNN) write to `checkpoint` after every epoch, so an
    /// interrupted run can resume (`resume` in the options, set by `resumeRun`).
    static func settings(_ family: any ModelFamily.Type, _ options: [String: String],
                         checkpoint: URL?) throws -> (ModelSettings, UInt64) {
        var values = options
        if let checkpoint, family.parameters.contains(where: { $0.name == "checkpoint" }) {
            values["checkpoint"] = checkpoint.path
        } else {
            values["resume"] = nil
        }
        var seed: UInt64 = 0
        if let text = values.removeValue(forKey: "seed") {
            guard let parsed = UInt64(text) else {
                throw PerceptError.invalidArgument("seed must be a whole number ≥ 0, got '\(text)'")
            }
            seed = parsed
        }
        return (try family.settings(values), seed)
    }
}

/// The run's progress lines: each checked against the cancel flag, the latest written to the
/// run's row at most every `interval` seconds with a 0…1 fraction read from "3/10"-style counts.
final class ProgressRecorder: @unchecked Sendable {
    let database: DatabasePool
    let runId: Int64
    let flag: CancelFlag
    let interval: TimeInterval
    private let lock = NSLock()
    private var lines: [String] = []
    private var fraction = 0.0
    private var lastWrite = Date.distantPast
    private var points: [EpochPoint]
    /// The log keeps the latest lines only, so a long run's row stays small.
    static let logLineLimit = 2000

    init(database: DatabasePool, runId: Int64, flag: CancelFlag, interval: TimeInterval, curve: [EpochPoint] = []) {
        points = curve
        self.database = database
        self.runId = runId
        self.flag = flag
        self.interval = interval
    }

    var log: String { lock.withLock { lines.joined(separator: "\n") } }
    /// One point per epoch ended so far (every line is read, also those not written to the row).
    var curve: [EpochPoint] { lock.withLock { points } }

    func record(_ line: String) throws {
        if flag.isCancelled { throw RunCancelled() }
        let due: Bool = lock.withLock {
            lines.append(line)
            if lines.count > Self.logLineLimit { lines.removeFirst(lines.count - Self.logLineLimit) }
            if let parsed = Self.fraction(in: line) { fraction = max(fraction, parsed) }
            if let point = ProgressLine(line)?.epochEnd { points = ProgressLine.adding(point, to: points) }
            guard Date().timeIntervalSince(lastWrite) >= interval else { return false }
            lastWrite = Date()
            return true
        }
        guard due else { return }
        let (message, progress, log, curve) = lock.withLock { (line, fraction, lines.joined(separator: "\n"), points) }
        let curveJSON = curve.isEmpty ? nil : String(decoding: try JSONEncoder().encode(curve), as: UTF8.self)
        try database.write { db in
            try db.execute(sql: "UPDATE run SET message = ?, progress = ?, log = ?, curve = ? WHERE id = ? AND state = 'running'",
                           arguments: [message, progress, log, curveJSON, runId])
        }
    }

    /// The share of the work done, from a progress line's "done/total" counts: "setting 2/4" → 0.5;
    /// "epoch 3/10 step 1/4" (the third epoch a quarter through) → 0.225. nil without counts.
    static func fraction(in line: String) -> Double? {
        let counts = line.matches(of: /(\d+)\s*\/\s*(\d+)/).compactMap { match -> (Double, Double)? in
            guard let done = Double(match.1), let total = Double(match.2), total > 0, done <= total else { return nil }
            return (done, total)
        }
        guard let (done, total) = counts.first else { return nil }
        guard counts.count > 1 else { return done / total }
        let (step, steps) = counts[1]
        return max(0, done - 1 + step / steps) / total
    }
}
