import Foundation
import Percept

/// Gathers the photos of concurrent prediction requests for one model into one batch (dynamic batching,
/// as inference servers do), so sixteen clients sending one photo each cost what one batch of sixteen
/// costs: one decode pass spread over the cores and one pass of the model, instead of sixteen of each.
///
/// No request waits on purpose: a lone request runs at once; while a batch runs, arriving requests
/// queue and the next batch takes all of them (up to `maxImages`). Under load the batches grow by
/// themselves; when idle the latency is one request's.
final class PredictionBatcher: @unchecked Sendable {
    private struct Waiting {
        var paths: [String]
        var top: Int
        var continuation: CheckedContinuation<[FilePrediction], Error>
    }

    private let model: SavedModel
    private let maxImages: Int
    // Guarded by `lock`.
    private let lock = NSLock()
    private var queue: [Waiting] = []
    private var running = false

    init(model: SavedModel, maxImages: Int = 64) {
        self.model = model
        self.maxImages = maxImages
    }

    /// The predictions for `paths` (in order), each with its `top` labels, computed in a batch with
    /// whatever other requests are waiting.
    func predict(files paths: [String], top: Int) async throws -> [FilePrediction] {
        try await withCheckedThrowingContinuation { continuation in
            let startWorker = lock.withLock { () -> Bool in
                queue.append(Waiting(paths: paths, top: top, continuation: continuation))
                guard !running else { return false }
                running = true
                return true
            }
            // A thread of its own: decoding and the model block, and must not hold up the server's event loops.
            if startWorker { Thread.detachNewThread { self.drain() } }
        }
    }

    /// Runs batches until nobody is waiting.
    private func drain() {
        while let batch = nextBatch() {
            let paths = batch.flatMap(\.paths)
            let top = batch.map(\.top).max() ?? 1
            do {
                let answers = try model.predict(files: paths, top: top)
                var start = 0
                for request in batch {
                    let mine = answers[start..<(start + request.paths.count)].map { answer -> FilePrediction in
                        var answer = answer
                        answer.top = Array(answer.top.prefix(request.top))
                        return answer
                    }
                    start += request.paths.count
                    request.continuation.resume(returning: mine)
                }
            } catch {
                for request in batch { request.continuation.resume(throwing: error) }
            }
        }
    }

    /// The waiting requests that fit in one batch (always at least one), or nil (and the worker stops)
    /// when none wait.
    private func nextBatch() -> [Waiting]? {
        lock.withLock {
            guard !queue.isEmpty else {
                running = false
                return nil
            }
            var count = 0, taken = 0
            while taken < queue.count, taken == 0 || count + queue[taken].paths.count <= maxImages {
                count += queue[taken].paths.count
                taken += 1
            }
            let batch = Array(queue.prefix(taken))
            queue.removeFirst(taken)
            return batch
        }
    }
}
