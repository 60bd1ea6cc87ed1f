import XCTest
import Foundation
import PerceptCore
import PerceptData
@testable import PerceptModels
import TestSupport

/// Cosine, distance weighting, features, NearestNeighbor, parsing, bad inputs and model archives.
final class KNNModelTests: XCTestCase {
    let names = ["a", "b", "c"]

    private func kind(_ body: () throws -> Void) -> PerceptError.Kind? {
        do { try body() } catch { return (error as? PerceptError)?.kind }
        return nil
    }

    /// Cosine ignores length: (10, 0) and (1, 0) point the same way; (0, 0) is at distance 1.
    func testCosineRanksByAngle() throws {
        let train = try tinyDataset([[200, 0], [0, 0], [1, 1], [0, 3]], labels: [0, 1, 2, 1], classNames: names)
        var model = KNearestNeighbors(k: 3, metric: .cosine)
        try model.fit(train)
        let query = try tinyDataset([[1, 0]], labels: [0], classNames: names)
        let found = try model.neighbors(of: query)
        XCTAssertEqual(found.indices, [0, 2, 1])  // angle 0, 45°, then the zero vector (1 − 0)
        assertClose(found.distances, [0, 1 - Float(0.5).squareRoot(), 1], rtol: 0, atol: 1e-6)
        XCTAssertEqual(try model.predict(query), [0])
        // Against the reference on random features, every k.
        let queries = randomTensor(rows: 40, columns: 9, seed: 11), vectors = randomTensor(rows: 300, columns: 9, seed: 12)
        let index = try FlatIndex(vectors: vectors, metric: .cosine)
        for k in [1, 5, 17] {
            let expected = referenceNearestNeighbors(queries: queries, vectors: vectors, k: k, metric: .cosine)
            let fast = try index.search(queries, k: k)
            XCTAssertEqual(fast.indices, expected.indices, "k \(k)")
            assertClose(fast.distances, expected.distances, rtol: 1e-4, atol: 1e-5)
        }
    }

    /// Query 4: neighbours 0 (a, distance 4), 10 (b, 6), 12 (b, 8): b by 2 votes of 3, and by
    /// weight too (1/6 + 1/8 ≈ 0.29 > 1/4). Query 1: a at 1, b at 9 and 11: b by votes, a by weight.
    func testDistanceWeighting() throws {
        let train = try tinyDataset([[0], [10], [12]], labels: [0, 1, 1], classNames: names)
        let queries = try tinyDataset([[4], [1]], labels: [0, 0], classNames: names)
        var uniform = KNearestNeighbors(k: 3, metric: .l1)
        var weighted = KNearestNeighbors(k: 3, metric: .l1, weighting: .distance)
        try uniform.fit(train)
        try weighted.fit(train)
        XCTAssertEqual(try uniform.predict(queries), [1, 1])
        // Query 1: a 1/1 = 1 against b 1/9 + 1/11 ≈ 0.202 → a.
        XCTAssertEqual(try weighted.predict(queries), [1, 0])
        let scores = try weighted.scores(for: queries)
        let bWeight = 1.0 / 6 + 1.0 / 8, total = 0.25 + bWeight
        assertClose(Array(scores.scalars[0..<3]), [Float(0.25 / total), Float(bWeight / total), 0])
        // An exact match takes the whole vote.
        let exact = try weighted.scores(for: try tinyDataset([[10]], labels: [0], classNames: names))
        XCTAssertEqual(exact.scalars, [0, 1, 0])
    }

    func testNearestNeighborIsOneNNUnderL1() throws {
        // (3, 3) is nearer than (5, 0) to the origin under L2, farther under L1: 1-NN uses L1.
        let train = try tinyDataset([[3, 3], [5, 0]], labels: [0, 1], classNames: names)
        var model = NearestNeighbor()
        try model.fit(train)
        XCTAssertEqual(model.metric, .l1)
        XCTAssertEqual(try model.predict(try tinyDataset([[0, 0]], labels: [0], classNames: names)), [1])
        XCTAssertEqual(try model.scores(for: try tinyDataset([[0, 0]], labels: [0], classNames: names)).scalars, [0, 1, 0])
    }

    func testFeaturesSearchAndChecks() throws {
        let features = Tensor(shape: [3, 2], scalars: [0, 0, 1, 0, 5, 5])
        var model = KNearestNeighbors(k: 1, metric: .l2)
        try model.fit(features: features, labels: [0, 1, 2], classNames: names)
        XCTAssertEqual(try model.neighbors(ofFeatures: Tensor(shape: [1, 2], scalars: [0.9, 0.2])).indices, [1])
        XCTAssertEqual(kind { _ = try model.neighbors(ofFeatures: Tensor(shape: [1, 3], scalars: [0, 0, 0])) }, .invalidData)
        XCTAssertEqual(kind { _ = try model.neighbors(ofFeatures: Tensor(shape: [1, 2], scalars: [.nan, 0])) }, .invalidData)
        XCTAssertEqual(kind { _ = try model.predict(try tinyDataset([[1, 2]], labels: [0], classNames: self.names)) },
                       .invalidArgument, "fitted on features, asked about images")
        var nan = KNearestNeighbors(k: 1)
        XCTAssertEqual(kind { try nan.fit(features: Tensor(shape: [1, 2], scalars: [1, .infinity]), labels: [0],
                                          classNames: self.names) }, .invalidData)
        XCTAssertEqual(kind { try nan.fit(features: features, labels: [0, 1], classNames: self.names) }, .invalidData)
        XCTAssertEqual(kind { try nan.fit(features: features, labels: [0, 1, 7], classNames: self.names) }, .invalidData)
        var tooMany = KNearestNeighbors(k: 4)
        XCTAssertEqual(kind { try tooMany.fit(features: features, labels: [0, 1, 2], classNames: self.names) },
                       .invalidArgument)
        var empty = KNearestNeighbors(k: 1)
        XCTAssertEqual(kind { try empty.fit(features: Tensor(zeros: [0, 2]), labels: [], classNames: self.names) },
                       .invalidData)
    }

    func testParsingMetricsAndWeightings() throws {
        XCTAssertEqual(try DistanceMetric(parsing: " L1 "), .l1)
        XCTAssertEqual(try DistanceMetric(parsing: "euclidean"), .l2)
        XCTAssertEqual(try DistanceMetric(parsing: "Cosine"), .cosine)
        XCTAssertEqual(try DistanceMetric.parseList("l2,l1,l2"), [.l2, .l1])
        XCTAssertEqual(kind { _ = try DistanceMetric(parsing: "hamming") }, .invalidArgument)
        XCTAssertEqual(kind { _ = try DistanceMetric.parseList("") }, .invalidArgument)
        XCTAssertEqual(try KNearestNeighbors.Weighting(parsing: "Distance"), .distance)
        XCTAssertEqual(kind { _ = try KNearestNeighbors.Weighting(parsing: "gaussian") }, .invalidArgument)
        XCTAssertThrowsError(try ByteIndex(rows: [1, 2], dimension: 2, metric: .cosine))
    }

    /// archive() → init(archive:) gives the same neighbours and scores, for every metric,
    /// weighting and input kind, and for the other neighbour models.
    func testArchiveRoundTrips() throws {
        var random = SeededRandom(seed: 5)
        let rows = (0..<30).map { _ in (0..<12).map { _ in UInt8(random.next() % 256) } }
        let train = try Dataset(height: 2, width: 2, channels: 3, pixels: PixelStorage(copying: rows.flatMap { $0 }),
                                labels: (0..<30).map { Int32($0 % 3) }, classNames: names)
        let queries = train.subset([0, 7, 13, 29])
        for metric in DistanceMetric.allCases {
            for weighting in KNearestNeighbors.Weighting.allCases {
                var model = KNearestNeighbors(k: 4, metric: metric, weighting: weighting)
                try model.fit(train)
                let archive = try model.archive()
                XCTAssertEqual(archive.kind, "knn")
                XCTAssertEqual(archive.inputShape, [2, 2, 3])
                let loaded = try KNearestNeighbors(archive: archive)
                XCTAssertTrue(loaded.k == 4 && loaded.metric == metric && loaded.weighting == weighting)
                XCTAssertEqual(try loaded.neighbors(of: queries), try model.neighbors(of: queries), "\(metric)")
                XCTAssertEqual(try loaded.scores(for: queries), try model.scores(for: queries), "\(metric) \(weighting)")
            }
        }
        var onFeatures = KNearestNeighbors(k: 2, metric: .l1)
        let features = randomTensor(rows: 10, columns: 5, seed: 9)
        try onFeatures.fit(features: features, labels: (0..<10).map { Int32($0 % 3) }, classNames: names)
        let loadedFeatures = try KNearestNeighbors(archive: try onFeatures.archive())
        XCTAssertEqual(try loadedFeatures.neighbors(ofFeatures: features), try onFeatures.neighbors(ofFeatures: features))

        var oneNN = NearestNeighbor()
        try oneNN.fit(train)
        let oneArchive = try oneNN.archive()
        XCTAssertEqual(oneArchive.kind, "nearest-neighbor")
        XCTAssertEqual(try NearestNeighbor(archive: oneArchive).scores(for: queries), try oneNN.scores(for: queries))
        XCTAssertThrowsError(try NearestNeighbor(archive: try KNearestNeighbors(archive: {
            var a = try KNearestNeighbors(k: 2).fitted(train).archive(); a.kind = "nearest-neighbor"; return a
        }()).archive()))

        var means = NearestClassMean()
        try means.fit(train)
        let meansArchive = try means.archive()
        XCTAssertEqual(meansArchive.kind, "nearest-class-mean")
        XCTAssertEqual(try NearestClassMean(archive: meansArchive).scores(for: queries), try means.scores(for: queries))
    }

    func testArchivesRefuseOtherKindsAndBrokenData() throws {
        XCTAssertThrowsError(try KNearestNeighbors().archive(), "unfitted")
        XCTAssertThrowsError(try NearestClassMean().archive(), "unfitted")
        let train = try tinyDataset([[0], [10]], labels: [0, 1], classNames: names)
        var archive = try KNearestNeighbors(k: 1).fitted(train).archive()
        XCTAssertThrowsError(try NearestClassMean(archive: archive))
        archive.blobs["pixels"] = [1, 2, 3]
        XCTAssertEqual(kind { _ = try KNearestNeighbors(archive: archive) }, .invalidData)
        archive = try KNearestNeighbors(k: 1).fitted(train).archive()
        archive.settings = Data(#"{"k":1,"metric":"chebyshev","weighting":"uniform","input":"pixels"}"#.utf8)
        XCTAssertEqual(kind { _ = try KNearestNeighbors(archive: archive) }, .invalidArgument)
    }
}

extension KNearestNeighbors {
    func fitted(_ dataset: Dataset) throws -> KNearestNeighbors {
        var copy = self
        try copy.fit(dataset)
        return copy
    }
}
