import XCTest
import PerceptCore
import PerceptData
@testable import PerceptModels
import PerceptPreprocessing
import TestSupport

final class FlatIndexTests: XCTestCase {
    /// The blocked GEMM (L2) and loop (L1) paths against the one-pair-at-a-time reference, on
    /// sizes that span several query blocks (64) and vector tiles (512).
    func testSearchAgreesWithReferenceOnRandomData() throws {
        let queries = randomTensor(rows: 130, columns: 37, seed: 1)
        let vectors = randomTensor(rows: 700, columns: 37, seed: 2)
        for metric in DistanceMetric.allCases {
            let index = try FlatIndex(vectors: vectors, metric: metric)
            // The reference is slow in debug builds: search once for 20 and compare prefixes.
            let all = referenceNearestNeighbors(queries: queries, vectors: vectors, k: 20, metric: metric)
            for k in [1, 3, 7, 20] {
                let rows = (0..<queries.rows).map { ($0 * 20)..<($0 * 20 + k) }
                let expectedIndices: [Int32] = rows.flatMap { all.indices[$0] }
                let expectedDistances: [Float] = rows.flatMap { all.distances[$0] }
                let fast = try index.search(queries, k: k, threads: 2)
                XCTAssertEqual(fast.indices, expectedIndices, "\(metric) k \(k)")
                assertClose(fast.distances, expectedDistances, rtol: 1e-4, atol: 1e-4, "\(metric) k \(k)")
                XCTAssertEqual(try index.search(queries, k: k, threads: 1), fast, "thread count changed \(metric) k \(k)")
            }
        }
    }

    /// On integer pixel values L1 sums are exact, so the fast path equals the reference bit for bit.
    func testL1IsExactOnPixelValues() throws {
        let queries = randomTensor(rows: 70, columns: 48, seed: 3, integers: true)
        let vectors = randomTensor(rows: 600, columns: 48, seed: 4, integers: true)
        let expected = referenceNearestNeighbors(queries: queries, vectors: vectors, k: 5, metric: .l1)
        XCTAssertEqual(try FlatIndex(vectors: vectors, metric: .l1).search(queries, k: 5), expected)
    }

    func testDistancesMatchHandComputedValues() throws {
        let index = try FlatIndex(vectors: Tensor(shape: [2, 2], scalars: [0, 0, 3, 4]), metric: .l2)
        let query = Tensor(shape: [1, 2], scalars: [3, 0])
        assertClose(try index.distances(to: query).scalars, [3, 4], rtol: 0, atol: 1e-5)
        let l1 = try FlatIndex(vectors: index.vectors, metric: .l1)
        XCTAssertEqual(try l1.distances(to: query).scalars, [3, 4])
    }

    func testBadSearchesAreRejected() throws {
        let index = try FlatIndex(vectors: randomTensor(rows: 3, columns: 4, seed: 5), metric: .l2)
        XCTAssertThrowsError(try index.search(randomTensor(rows: 1, columns: 4, seed: 6), k: 4))
        XCTAssertThrowsError(try index.search(randomTensor(rows: 1, columns: 4, seed: 6), k: 0))
        XCTAssertThrowsError(try index.search(randomTensor(rows: 1, columns: 5, seed: 6), k: 1)) { error in
            XCTAssertEqual((error as? PerceptError)?.kind, .invalidData)
        }
    }

    func testSelectorKeepsTheKSmallestWithLowerIndexFirstOnTies() {
        var selector = TopKSelector(k: 3)
        let offered: [Float] = [5, 1, 3, 1, 0, 3, 9]
        for (index, distance) in offered.enumerated() {
            selector.offer(distance: distance, index: Int32(index))
        }
        XCTAssertEqual(selector.distances, [0, 1, 1])
        XCTAssertEqual(selector.indices, [4, 1, 3])
    }
}

final class KNearestNeighborsTests: XCTestCase {
    let names = ["a", "b", "c"]

    func testOneAndThreeNeighborsOnPointsOnALine() throws {
        let train = try tinyDataset([[0], [10], [20], [30]], labels: [0, 0, 1, 1], classNames: names)
        let queries = try tinyDataset([[4], [26], [14]], labels: [0, 0, 0], classNames: names)
        var oneNN = KNearestNeighbors(k: 1, metric: .l2)
        try oneNN.fit(train)
        XCTAssertEqual(try oneNN.predict(queries), [0, 1, 0])
        XCTAssertEqual(try oneNN.neighbors(of: queries).indices, [0, 3, 1])
        XCTAssertEqual(try oneNN.neighbors(of: queries).distances, [4, 4, 4])

        // 14: neighbours 10 (a, 4), 20 (b, 6), 0 (a, 14) → a with 2 of 3 votes.
        var threeNN = KNearestNeighbors(k: 3, metric: .l1)
        try threeNN.fit(train)
        XCTAssertEqual(try threeNN.predict(queries), [0, 1, 0])
        let scores = try threeNN.scores(for: queries)
        XCTAssertEqual(scores.shape, [3, 3])
        let expected: [Float] = [2.0 / 3, 1.0 / 3, 0]
        assertClose(Array(scores.scalars[6..<9]), expected)
    }

    /// Equal votes go to the class of the nearest neighbour, even when it has the higher index.
    func testTiedVotesGoToTheNearestNeighborsClass() throws {
        let train = try tinyDataset([[0], [10]], labels: [0, 1], classNames: names)
        let queries = try tinyDataset([[3], [8]], labels: [0, 1], classNames: names)
        var model = KNearestNeighbors(k: 2, metric: .l1)
        try model.fit(train)
        XCTAssertEqual(try model.scores(for: queries).scalars, [0.5, 0.5, 0, 0.5, 0.5, 0])
        XCTAssertEqual(try model.predict(queries), [0, 1])
        XCTAssertEqual(try model.topK(queries, k: 3), [[0, 1, 2], [1, 0, 2]])

        // 2 votes each; the nearest (distance 1) ties between items 0 (a) and 1 (b): lower index wins.
        let four = try tinyDataset([[0], [2], [5], [9]], labels: [0, 1, 1, 0], classNames: names)
        var fourNN = KNearestNeighbors(k: 4, metric: .l2)
        try fourNN.fit(four)
        XCTAssertEqual(try fourNN.predict(try tinyDataset([[1]], labels: [0], classNames: names)), [0])
    }

    func testEquallyDistantNeighborsGoToTheLowerTrainingIndex() throws {
        let train = try tinyDataset([[0], [10]], labels: [1, 0], classNames: names)
        for metric in [DistanceMetric.l1, .l2] {
            var model = KNearestNeighbors(k: 1, metric: metric)
            try model.fit(train)
            XCTAssertEqual(try model.predict(try tinyDataset([[5]], labels: [0], classNames: names)), [1], "\(metric)")
        }
    }

    /// (3, 3) is nearer than (5, 0) to the origin in L2 (4.24 < 5) but farther in L1 (6 > 5).
    func testL1AndL2CanDisagree() throws {
        let train = try tinyDataset([[3, 3], [5, 0]], labels: [0, 1], classNames: names)
        let origin = try tinyDataset([[0, 0]], labels: [0], classNames: names)
        var l1 = KNearestNeighbors(k: 1, metric: .l1), l2 = KNearestNeighbors(k: 1, metric: .l2)
        try l1.fit(train)
        try l2.fit(train)
        XCTAssertEqual(try l1.predict(origin), [1])
        XCTAssertEqual(try l2.predict(origin), [0])
        assertClose(try l2.neighbors(of: origin).distances, [Float(18).squareRoot()])
    }

    func testTopKRanksByVotesThenNearness() throws {
        let train = try tinyDataset([[1], [2], [3], [50]], labels: [2, 0, 2, 1], classNames: names)
        var model = KNearestNeighbors(k: 3)
        try model.fit(train)
        XCTAssertEqual(try model.topK(try tinyDataset([[0]], labels: [0], classNames: names), k: 2), [[2, 0]])
    }

    func testBadInputsAreRejected() throws {
        let train = try tinyDataset([[0], [10]], labels: [0, 1], classNames: names)
        func kind(_ body: () throws -> Void) -> PerceptError.Kind? {
            do { try body() } catch { return (error as? PerceptError)?.kind }
            return nil
        }
        var zero = KNearestNeighbors(k: 0)
        XCTAssertEqual(kind { try zero.fit(train) }, .invalidArgument)
        var tooMany = KNearestNeighbors(k: 3)
        XCTAssertEqual(kind { try tooMany.fit(train) }, .invalidArgument)
        var empty = KNearestNeighbors(k: 1)
        XCTAssertEqual(kind { try empty.fit(try tinyDataset([], labels: [], classNames: self.names)) }, .invalidData)
        let unfitted = KNearestNeighbors(k: 1)
        XCTAssertEqual(kind { _ = try unfitted.predict(train) }, .invalidArgument)
        var model = KNearestNeighbors(k: 1)
        try model.fit(train)
        let wide = try tinyDataset([[0, 0]], labels: [0], classNames: names)
        XCTAssertEqual(kind { _ = try model.predict(wide) }, .invalidData)
        XCTAssertEqual(kind { _ = try model.topK(train, k: 0) }, .invalidArgument)
    }
}

final class NearestClassMeanTests: XCTestCase {
    func testMeansScoresAndPredictions() throws {
        // Class a: (0, 0), (2, 0) → mean (1, 0); class b: (10, 10), (10, 12) → mean (10, 11); c is empty.
        let names = ["a", "b", "c"]
        let train = try tinyDataset([[0, 0], [10, 10], [2, 0], [10, 12]], labels: [0, 1, 0, 1], classNames: names)
        var model = NearestClassMean()
        try model.fit(train)
        let means: [Float] = [1 / 255, 0, 10 / 255, 11 / 255, 0, 0]
        assertClose(model.means.scalars, means)
        XCTAssertEqual(model.hasMean, [true, true, false])

        let queries = try tinyDataset([[1, 1], [9, 8]], labels: [0, 1], classNames: names)
        let scores = try model.scores(for: queries)
        // Distances in [0, 1] pixel units: (1,1)→a = 1, →b = √181; (9,8)→a = √128, →b = √10.
        let finite: [Float] = [0, 1, 3, 4].map { scores.scalars[$0] }
        let squaredDistances: [Float] = [1, 181, 128, 10]
        let expected: [Float] = squaredDistances.map { -$0.squareRoot() / 255 }
        assertClose(finite, expected, rtol: 1e-4)
        XCTAssertEqual(scores.scalars[2], -.infinity, "class c has no mean")
        XCTAssertEqual(scores.scalars[5], -.infinity, "class c has no mean")
        XCTAssertEqual(try model.predict(queries), [0, 1])
        XCTAssertEqual(try model.topK(queries, k: 3), [[0, 1, 2], [1, 0, 2]])
    }

    func testBadInputsAreRejected() throws {
        var model = NearestClassMean()
        XCTAssertThrowsError(try model.fit(try tinyDataset([], labels: [], classNames: ["a"])))
        XCTAssertThrowsError(try model.scores(for: try tinyDataset([[1]], labels: [0], classNames: ["a"])))
        try model.fit(try tinyDataset([[1]], labels: [0], classNames: ["a"]))
        XCTAssertThrowsError(try model.scores(for: try tinyDataset([[1, 2]], labels: [0], classNames: ["a"])))
    }
}

final class PixelFeaturesTests: XCTestCase {
    func testScalings() throws {
        let dataset = try tinyDataset([[0, 255], [51, 102]], labels: [0, 0], classNames: ["a"])
        XCTAssertEqual(dataset.pixelFeatures(scaling: .raw), Tensor(shape: [2, 2], scalars: [0, 255, 51, 102]))
        let unit: [Float] = [0, 1, 0.2, 0.4]
        assertClose(dataset.pixelFeatures().scalars, unit)
    }
}
