import Foundation
import PerceptCore
import PerceptData
import PerceptDistributed
import PerceptModelKit
import PerceptModels

/// What `--distributed` does for `percept evaluate` and `percept predict`: k-NN models (kinds
/// "knn" and "nearest-neighbor") split their stored training images across the ranks and merge
/// the neighbour lists (`KNearestNeighbors.neighbors(of:communicator:)`), so every number is the
/// single-process one. Other families have no search to split; a job of several ranks refuses
/// them rather than have every rank do the whole work. A job of one runs anything.
extension Classifier {
    /// The k-NN behind this model when its search can be sharded, else nil.
    public var shardableNeighbors: KNearestNeighbors? {
        if let knn = self as? KNearestNeighbors { return knn }
        if let nearest = self as? NearestNeighbor { return nearest.model }
        return nil
    }

    /// `classRankingWithProbabilities` with a k-NN search split across `communicator`'s ranks.
    ///
    /// - Throws: `.unsupported` for a model that is not k-NN when the job has more than one rank.
    public func classRankingWithProbabilities(_ dataset: Dataset, k: Int,
                                              communicator: Communicator) throws -> (rankings: [[Int]], probabilities: Tensor) {
        guard communicator.size > 1 else { return try classRankingWithProbabilities(dataset, k: k) }
        guard let knn = shardableNeighbors else { throw SavedModel.notShardable(kind: String(describing: Self.self)) }
        return try knn.rankingWithProbabilities(dataset, k: k, communicator: communicator)
    }
}

extension SavedModel {
    /// Checks, on every rank of `communicator`, that this model can run distributed and that every
    /// rank loaded the same file (SHA-256 of `path`), before any work starts. A no-op for one rank.
    ///
    /// - Throws: `.unsupported` for a family without a shardable search; `DistributedError.mismatch`
    ///   naming the first rank whose file differs from rank 0's.
    public func requireSameModel(on communicator: Communicator, path: String) throws {
        guard communicator.size > 1 else { return }
        guard model.shardableNeighbors != nil else { throw SavedModel.notShardable(kind: kind) }
        try communicator.requireAgreement(on: try Checksum.fileDigest(path), what: "model file \(path)")
    }

    static func notShardable(kind: String) -> PerceptError {
        PerceptError.unsupported(nil, "--distributed splits k-NN search across ranks (models of kind knn or nearest-neighbor); "
            + "a \(kind) model has no search to split: run it as one process, without mpirun")
    }
}

extension Dataset {
    /// SHA-256 of the images' size, pixels, labels and class names (not their paths): what the ranks
    /// of a job compare (`Communicator.requireAgreement`) to be sure they hold the same data.
    public var contentDigest: [UInt8] { Checksum.contentDigest(self) }
}
