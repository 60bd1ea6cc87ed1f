import Foundation

/// Set by `cancelRun`, checked by the training's progress callback (which then throws).
final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    func cancel() { lock.withLock { cancelled = true } }
    var isCancelled: Bool { lock.withLock { cancelled } }
}

/// The training runs waiting and running: at most `workers` at once, the others in order of
/// arrival. Training is long, blocking CPU work, so each runs on its own thread, never on
/// Swift's cooperative pool (which the HTTP layer needs).
actor TrainingQueue {
    /// What cancelling found.
    enum Cancellation { case removedWhileWaiting, signalledWhileRunning, unknown }

    private let workers: Int
    private let work: @Sendable (Int64, CancelFlag) -> Void
    private var waiting: [Int64] = []
    private var running: [Int64: CancelFlag] = [:]
    /// Resumed when nothing is waiting or running (tests, shutdown).
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    /// - Parameter work: trains one run to its end (blocking), checking its flag.
    init(workers: Int, work: @escaping @Sendable (Int64, CancelFlag) -> Void) {
        self.workers = max(1, workers)
        self.work = work
    }

    func enqueue(_ runId: Int64) {
        guard !waiting.contains(runId), running[runId] == nil else { return }
        waiting.append(runId)
        startWaitingRuns()
    }

    func cancel(_ runId: Int64) -> Cancellation {
        if let index = waiting.firstIndex(of: runId) {
            waiting.remove(at: index)
            resumeIdleWaitersIfIdle()
            return .removedWhileWaiting
        }
        if let flag = running[runId] {
            flag.cancel()
            return .signalledWhileRunning
        }
        return .unknown
    }

    var runningCount: Int { running.count }

    /// Returns once no run is waiting or running.
    func waitUntilIdle() async {
        if waiting.isEmpty, running.isEmpty { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    private func startWaitingRuns() {
        while running.count < workers, !waiting.isEmpty {
            let runId = waiting.removeFirst()
            let flag = CancelFlag()
            running[runId] = flag
            let work = self.work
            Thread.detachNewThread { [weak self] in
                work(runId, flag)
                Task { await self?.finished(runId) }
            }
        }
    }

    private func finished(_ runId: Int64) {
        running[runId] = nil
        startWaitingRuns()
        resumeIdleWaitersIfIdle()
    }

    private func resumeIdleWaitersIfIdle() {
        guard waiting.isEmpty, running.isEmpty else { return }
        let waiters = idleWaiters
        idleWaiters = []
        for waiter in waiters { waiter.resume() }
    }
}
