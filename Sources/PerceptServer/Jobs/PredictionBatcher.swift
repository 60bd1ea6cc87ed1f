import Foundation
import Percept

/// Gathers the photos of concurrent prediction requests for one model into one batch (dynamic batching,
/// as inference servers do), so sixteen clients sending one photo each cost what one batch of sixteen
/// costs: one decode pass spread over the cores and one pass of the model, instead of sixteen of each.
///
/// No request waits on purpose: a lone request runs at once; while a batch runs, arriving requests
/// queue and the next batch takes all of them (up to `maxImages`). Under load the batches grow by
/// themselves; when idle the latency is one request's. Up to `maxWorkers` batches run at once, so
/// one batch's decoding overlaps another's serial parts (the model, the log, the answers); the
/// model itself runs one computation at a time (`LoadedModel.exclusively`).
///
/// The batch's answers are handed to `record` (the prediction log) together, before any request gets
/// its own: one database transaction per batch rather than one per request (group commit), and no
/// request is answered before its row is stored.
final class PredictionBatcher: @unchecked Sendable {
    /// One request's answers, as `record` receives them.
    struct Answered {
        var modelId: Int64
        var answers: [FilePrediction]
    }

    private struct Waiting {
        var images: [ArchiveEntry]
        var top: Int
        var modelId: Int64
        var continuation: CheckedContinuation<[FilePrediction], Error>
    }

    private let model: LoadedModel
    private let maxImages: Int
    private let maxWorkers: Int
    private let record: ([Answered]) throws -> Void
    // Guarded by `lock`.
    private let lock = NSLock()
    private var queue: [Waiting] = []
    private var workers = 0

    init(model: LoadedModel, maxImages: Int = 64, maxWorkers: Int = Parallel.defaultThreadCount,
         record: @escaping ([Answered]) throws -> Void) {
        self.model = model
        self.maxImages = maxImages
        self.maxWorkers = max(1, maxWorkers)
        self.record = record
    }

    /// The predictions for `images` (in order, each named by its `path`), each with its `top` labels,
    /// computed in a batch with whatever other requests are waiting, and recorded under `modelId`.
    func predict(_ images: [ArchiveEntry], top: Int, modelId: Int64) async throws -> [FilePrediction] {
        try await withCheckedThrowingContinuation { continuation in
            let startWorker = lock.withLock { () -> Bool in
                queue.append(Waiting(images: images, top: top, modelId: modelId, continuation: continuation))
                guard workers < maxWorkers else { return false }
                workers += 1
                return true
            }
            // A thread of its own: decoding and the model block, and must not hold up the server's event loops.
            if startWorker { Thread.detachNewThread { self.drain() } }
        }
    }

    /// Runs batches until nobody is waiting.
    private func drain() {
        while let batch = nextBatch() {
            let top = batch.map(\.top).max() ?? 1
            do {
                let images = batch.flatMap(\.images)
                // The cores shared among the batches running now (one decoding thread each when two run).
                let threads = max(1, Parallel.defaultThreadCount / max(1, lock.withLock { workers }))
                let decoded = try model.saved.decode(inMemory: images, threads: threads)
                let answers = try model.exclusively { try $0.predictions(for: decoded, names: images.map(\.path), top: top) }
                var start = 0
                let answered = batch.map { request -> Answered in
                    let mine = answers[start..<(start + request.images.count)].map { answer -> FilePrediction in
                        var answer = answer
                        answer.top = Array(answer.top.prefix(request.top))
                        return answer
                    }
                    start += request.images.count
                    return Answered(modelId: request.modelId, answers: mine)
                }
                try record(answered)
                for (request, answer) in zip(batch, answered) { request.continuation.resume(returning: answer.answers) }
            } catch {
                for request in batch { request.continuation.resume(throwing: error) }
            }
        }
    }

    /// The waiting requests that fit in one batch (always at least one), or nil (and the calling worker
    /// stops) when none wait.
    private func nextBatch() -> [Waiting]? {
        lock.withLock {
            guard !queue.isEmpty else {
                workers -= 1
                return nil
            }
            var count = 0, taken = 0
            while taken < queue.count, taken == 0 || count + queue[taken].images.count <= maxImages {
                count += queue[taken].images.count
                taken += 1
            }
            let batch = Array(queue.prefix(taken))
            queue.removeFirst(taken)
            return batch
        }
    }
}
