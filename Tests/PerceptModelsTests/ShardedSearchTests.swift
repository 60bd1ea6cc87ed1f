import XCTest
import PerceptCore
import PerceptData
import PerceptDistributed
@testable import PerceptModels

/// Sharded k-NN search (ranks as threads: `ThreadGroup`) against the single-process search it must
/// equal on every rank: neighbours, distances, rankings and probabilities, L1 and L2, with ties
/// across shard boundaries, odd counts, k larger than a shard, and more ranks than images.
final class ShardedSearchTests: XCTestCase {
    /// 8×8×3 images with duplicates at indices that different rank counts put in different shards.
    private func tiesDataset(count: Int, seed: UInt64) throws -> (train: Dataset, queries: Dataset) {
        var random = SeededRandom(seed: seed)
        let d = 8 * 8 * 3
        var rows = (0..<count).map { _ in (0..<d).map { _ in UInt8(truncatingIfNeeded: random.next() % 6) } }
        // Image 3 again at 30, 50 and the last index; image 10 again at 34 and 67: each a tie at distance 0
        // to a query copying it, and equal distances to every other query.
        for copy in [30, 50, count - 1] { rows[copy] = rows[3] }
        for copy in [34, 67] { rows[copy] = rows[10] }
        let labels = (0..<count).map { Int32($0 % 3) }
        let train = try Dataset(height: 8, width: 8, channels: 3, pixels: PixelStorage(copying: rows.flatMap { $0 }),
                                labels: labels, classNames: ["a", "b", "c"])
        var queryRows = (0..<19).map { _ in (0..<d).map { _ in UInt8(truncatingIfNeeded: random.next() % 6) } }
        queryRows[0] = rows[3]
        queryRows[5] = rows[10]
        queryRows[7] = [UInt8](repeating: 2, count: d)
        let queries = try Dataset(height: 8, width: 8, channels: 3, pixels: PixelStorage(copying: queryRows.flatMap { $0 }),
                                  labels: [Int32](repeating: 0, count: 19), classNames: ["a", "b", "c"])
        return (train, queries)
    }

    func testShardedSearchEqualsOneProcessOnEveryRank() throws {
        let (train, queries) = try tiesDataset(count: 101, seed: 7)
        for metric in [DistanceMetric.l1, .l2] {
            for weighting in KNearestNeighbors.Weighting.allCases {
                // k = 40 exceeds a shard of 3 ranks (34 images) and needs the other shards' lists.
                for k in [1, 6, 40] {
                    let model = try KNearestNeighbors(k: k, metric: metric, weighting: weighting, threads: 1).fitted(on: train)
                    let expected = try model.neighbors(of: queries)
                    let expectedRanking = try model.rankingWithProbabilities(queries, k: 3)
                    XCTAssertTrue(expected.distances.contains(0), "the queries copying training images tie at distance 0")
                    for ranks in [2, 3] {
                        let results = try ThreadGroup.run(size: ranks) { communicator in
                            let neighbors = try model.neighbors(of: queries, communicator: communicator)
                            let ranking = try model.rankingWithProbabilities(queries, k: 3, communicator: communicator)
                            return (neighbors, ranking.rankings, ranking.probabilities)
                        }
                        for (rank, result) in results.enumerated() {
                            let label = "\(metric) \(weighting) k \(k), rank \(rank) of \(ranks)"
                            XCTAssertEqual(result.0, expected, label)
                            XCTAssertEqual(result.1, expectedRanking.rankings, label)
                            XCTAssertEqual(result.2, expectedRanking.probabilities, label)
                        }
                    }
                }
            }
        }
    }

    /// Two squared L2 distances that differ (2²⁵ and 2²⁵ + 1) but round to one Float: one process
    /// puts the nearer first although its index is higher, and so must the merge, which therefore
    /// compares exact integer distances, not the reported Floats.
    func testMergeOrdersByExactDistanceNotByRoundedFloat() throws {
        let d = 528
        func row(_ values: [UInt8]) -> [UInt8] { values + [UInt8](repeating: 0, count: d - values.count) }
        let exactly2To25 = row([UInt8](repeating: 255, count: 516) + [39, 3, 1, 1])
        let onePast = row([UInt8](repeating: 255, count: 516) + [39, 3, 1, 1, 1])
        var rows = (0..<6).map { _ in row([UInt8](repeating: 255, count: 528)) }  // far from the query
        rows[0] = onePast       // rank 0's shard, lower index
        rows[4] = exactly2To25  // rank 1's shard, higher index, nearer by one squared unit
        let train = try tinyDataset(rows, labels: [0, 0, 0, 0, 1, 1], classNames: ["far", "near"])
        let query = try tinyDataset([row([])], labels: [0], classNames: ["far", "near"])
        XCTAssertEqual(Float(1 << 25 + 1), Float(1 << 25), "the two distances must round to one Float for this test to bite")
        let model = try KNearestNeighbors(k: 2, metric: .l2).fitted(on: train)
        let expected = try model.neighbors(of: query)
        XCTAssertEqual(expected.indices, [4, 0])
        let sharded = try ThreadGroup.run(size: 2) { try model.neighbors(of: query, communicator: $0) }
        XCTAssertEqual(sharded, [expected, expected])
    }

    func testMoreRanksThanTrainingImagesAndOddShards() throws {
        let (train, queries) = try tiesDataset(count: 71, seed: 11)
        let two = train.subset([3, 30])  // the same image twice: every query ties
        for metric in [DistanceMetric.l1, .l2] {
            let model = try KNearestNeighbors(k: 2, metric: metric).fitted(on: two)
            let expected = try model.neighbors(of: queries)
            XCTAssertEqual(expected.indices.prefix(2), [0, 1], "equal distances: lower index first")
            XCTAssertEqual(try ThreadGroup.run(size: 3) { try model.neighbors(of: queries, communicator: $0) },
                           [expected, expected, expected], "\(metric): rank 2 holds no image")
            let odd = try KNearestNeighbors(k: 9, metric: metric).fitted(on: train)
            let oddExpected = try odd.neighbors(of: queries)
            XCTAssertEqual(try ThreadGroup.run(size: 3) { try odd.neighbors(of: queries, communicator: $0) }, [oddExpected, oddExpected, oddExpected])
        }
    }

    /// Float features (a model fitted on features, L1: a plain loop, so each pair's sum is the same
    /// in any tile) shard to the same lists.
    func testFeatureModelsShardToTheSameLists() throws {
        let features = randomTensor(rows: 203, columns: 17, seed: 5, integers: true)
        let queries = randomTensor(rows: 31, columns: 17, seed: 6, integers: true)
        let labels = (0..<203).map { Int32($0 % 4) }
        var fitted = KNearestNeighbors(k: 7, metric: .l1)
        try fitted.fit(features: features, labels: labels, classNames: ["a", "b", "c", "d"])
        let model = fitted
        let expected = try model.neighbors(ofFeatures: queries)
        for ranks in [2, 3] {
            XCTAssertEqual(try ThreadGroup.run(size: ranks) { try model.neighbors(ofFeatures: queries, communicator: $0) },
                           Array(repeating: expected, count: ranks))
        }
    }

    func testListsSurviveTheWireAndDifferentQueryCountsAreRefused() throws {
        let list = KeyedNeighbors(k: 2, keys: [0, UInt64.max, 7, 7], indices: [5, Int32.max, -1, 3])
        XCTAssertEqual(try ShardedSearch.decode(ShardedSearch.encode(list), rank: 1), list)
        XCTAssertEqual(try ShardedSearch.decode(ShardedSearch.encode(.empty(queryCount: 4)), rank: 1), .empty(queryCount: 4))
        XCTAssertThrowsError(try ShardedSearch.decode(Array(ShardedSearch.encode(list).dropLast()), rank: 1))
        // Equal keys across parts: the lower index wins whichever part it came from.
        let merged = try ShardedSearch.merge([KeyedNeighbors(k: 1, keys: [4], indices: [9]),
                                              KeyedNeighbors(k: 2, keys: [4, 5], indices: [2, 3])], k: 3)
        XCTAssertEqual(merged, KeyedNeighbors(k: 3, keys: [4, 4, 5], indices: [2, 9, 3]))
        XCTAssertThrowsError(try ShardedSearch.merge([list, KeyedNeighbors(k: 2, keys: [1, 2], indices: [0, 1])], k: 2)) { error in
            XCTAssertEqual(error as? DistributedError, .mismatch(what: "queries", detail: "rank 1 searched 1, rank 0 searched 2"))
        }
    }
}
