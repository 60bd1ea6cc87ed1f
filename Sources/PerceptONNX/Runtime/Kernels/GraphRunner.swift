import PerceptCore

/// Shares a batch out over workers, each running micro-batches through the plan.
enum GraphRunner {
    /// `blasThreads`: the threads each worker's BLAS calls may use — 1 when the workers already fill
    /// the cores, all of them when one image runs alone (its GEMMs are then the only parallelism).
    static func run(_ plan: GraphPlan, spaces: [GraphWorkspace], images: [Float], batch: Int, imageCount: Int,
                    microBatch: Int, outputCount: Int, blasThreads: Int = 1, into output: inout [Float]) {
        let workers = spaces.count
        images.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { result in
                nonisolated(unsafe) let result = result
                BLAS.withThreadCount(blasThreads) {
                    Parallel.forEachChunk(count: workers, threads: workers) { range in
                        for worker in range {
                            var first = batch * worker / workers
                            let end = batch * (worker + 1) / workers
                            while first < end {
                                let count = min(microBatch, end - first)
                                spaces[worker].run(plan, input: input.baseAddress! + first * imageCount, batch: count,
                                                   output: result.baseAddress! + first * outputCount)
                                first += count
                            }
                        }
                    }
                }
            }
        }
    }
}
