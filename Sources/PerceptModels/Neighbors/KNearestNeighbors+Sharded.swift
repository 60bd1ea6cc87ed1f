import PerceptCore
import PerceptData
import PerceptDistributed
import PerceptPreprocessing

/// k-NN with its training set split across the ranks of a job (`mpirun -np N percept evaluate
/// KNN-MODEL DATA --distributed` runs these): each rank searches its contiguous share of the
/// stored images with the single-process kernels, and the per-query top-k lists are merged on
/// exact distances with the lower training index winning ties (`ShardedSearch`). Neighbours,
/// distances, votes, rankings and probabilities are then exactly the single-process ones, on every
/// rank. Every rank must call with the same queries; with a job of one these are the plain calls.
///
/// Byte rows (L1, L2 on pixels) merge on exact integer distances. Float features (cosine, or a
/// model fitted on features) merge on the Float distances as each shard computed them: identical
/// to one process where a pair's distance does not depend on which tile of the GEMM it sat in.
extension KNearestNeighbors {
    /// The k nearest training images of each image, searched shard by shard across `communicator`'s ranks.
    ///
    /// - Parameter timings: when given, adds where this rank's time went (benchmarks).
    public func neighbors(of dataset: Dataset, communicator: Communicator,
                          timings: ShardedSearchTimings? = nil) throws -> NeighborList {
        guard communicator.size > 1 else { return try neighbors(of: dataset) }
        try checkImageQueries(dataset)
        guard let engine else { throw PerceptError.invalidArgument("fit KNearestNeighbors before predicting") }
        switch engine {
        case .bytes(let index):
            return try ShardedSearch.search(queryCount: dataset.count, k: k, storedCount: trainingCount,
                                            communicator: communicator, timings: timings) { rows, k in
                try index.shard(rows).keyedSearch(dataset, k: k, threads: threads)
            }.neighborList(distance: index.distance(forKey:))
        case .floats(let index):
            return try shardedSearch(index, dataset.pixelFeatures(scaling: .raw), communicator: communicator, timings: timings)
        }
    }

    /// The k nearest training items of each row of `features` (a model fitted on features), sharded.
    public func neighbors(ofFeatures features: Tensor, communicator: Communicator,
                          timings: ShardedSearchTimings? = nil) throws -> NeighborList {
        guard communicator.size > 1 else { return try neighbors(ofFeatures: features) }
        guard case .floats(let index)? = engine, trainingFeatures != nil else {
            throw PerceptError.invalidArgument("this k-NN was fitted on images; search it with neighbors(of:)")
        }
        return try shardedSearch(index, features, communicator: communicator, timings: timings)
    }

    private func shardedSearch(_ index: FlatIndex, _ queries: Tensor, communicator: Communicator,
                               timings: ShardedSearchTimings?) throws -> NeighborList {
        try index.validate(queries)
        return try ShardedSearch.search(queryCount: queries.rows, k: k, storedCount: trainingCount,
                                        communicator: communicator, timings: timings) { rows, k in
            try index.shard(rows).keyedSearch(queries, k: k, threads: threads)
        }.neighborList { index.finalDistance(FlatIndex.value(ofKey: $0)) }
    }

    /// N×C vote fractions from the sharded search.
    public func scores(for dataset: Dataset, communicator: Communicator) throws -> Tensor {
        scores(from: try neighbors(of: dataset, communicator: communicator))
    }

    /// The best `count` classes of each image (`topK`'s order) from the sharded search.
    public func topK(_ dataset: Dataset, k count: Int, communicator: Communicator) throws -> [[Int]] {
        guard count >= 1 else { throw PerceptError.invalidArgument("top-k needs k ≥ 1, got \(count)") }
        return ranking(from: try neighbors(of: dataset, communicator: communicator), count: count)
    }

    /// The predicted class of each image from the sharded search.
    public func predict(_ dataset: Dataset, communicator: Communicator) throws -> [Int32] {
        try topK(dataset, k: 1, communicator: communicator).map { Int32($0[0]) }
    }

    /// Rankings and probabilities from one sharded search (what `percept evaluate` needs).
    public func rankingWithProbabilities(_ dataset: Dataset, k count: Int,
                                         communicator: Communicator) throws -> (rankings: [[Int]], probabilities: Tensor) {
        guard count >= 1 else { throw PerceptError.invalidArgument("top-k needs k ≥ 1, got \(count)") }
        let neighbors = try neighbors(of: dataset, communicator: communicator)
        return (ranking(from: neighbors, count: count), scores(from: neighbors))
    }
}
