import Dispatch
import Foundation

/// Parallel loops over the machine's cores.
///
/// Work is cut into contiguous chunks, one or a few per core, so each worker touches its own
/// slice of the output and needs no locks. Results never depend on how many threads ran,
/// as long as callers write only to the indices they were handed.
public enum Parallel {
    /// The number of workers used when a caller does not say: every active core.
    ///
    /// Read once: on Linux `activeProcessorCount` reads the cgroup's CPU quota from files on every
    /// call, which a server answering small requests paid several times per request.
    public static let defaultThreadCount: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Calls `body(range)` for disjoint ranges covering `0..<count`, concurrently.
    ///
    /// - Parameters:
    ///   - count: the number of items.
    ///   - threads: how many workers; `nil` means every core.
    ///   - minimumChunk: below this many items per chunk, fewer workers are used (parallelism
    ///     costs a few microseconds a chunk).
    ///   - chunksPerThread: more than one chunk per worker evens out items of unequal cost
    ///     (e.g. JPEG files of different sizes).
    public static func forEachChunk(
        count: Int, threads: Int? = nil, minimumChunk: Int = 1, chunksPerThread: Int = 1,
        _ body: (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let workers = max(1, threads ?? defaultThreadCount)
        let chunkCount = max(1, min(workers * max(1, chunksPerThread), count / max(1, minimumChunk)))
        if chunkCount == 1 {
            body(0..<count)
            return
        }
        // concurrentPerform returns only after every iteration has run, so the non-escaping
        // body outlives its use; callers guarantee the chunks touch disjoint memory.
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                let start = count * chunk / chunkCount
                let end = count * (chunk + 1) / chunkCount
                if start < end { body(start..<end) }
            }
        }
    }

    /// Maps `0..<count` to an array concurrently; element `i` is `transform(i)`.
    public static func map<T>(
        count: Int, threads: Int? = nil, chunksPerThread: Int = 4, _ transform: (Int) -> T
    ) -> [T] {
        var results = [T?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let output = buffer
            forEachChunk(count: count, threads: threads, chunksPerThread: chunksPerThread) { range in
                for i in range { output[i] = transform(i) }
            }
        }
        return results.map { $0! }
    }
}
