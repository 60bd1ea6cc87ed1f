import XCTest
import PerceptCore
import PerceptData
import PerceptEvaluation
import PerceptModels
import TestSupport

final class CrossValidationTests: XCTestCase {
    /// Pixel values from a tiny range, so distances and votes tie often and the tie-breaks matter.
    private func randomDataset(count: Int, width: Int, classes: Int, seed: UInt64) throws -> Dataset {
        var random = SeededRandom(seed: seed)
        let rows = (0..<count).map { _ in (0..<width).map { _ in UInt8(random.next() % 4) } }
        let labels = (0..<count).map { Int32($0 % classes) }
        return try tinyDataset(rows, labels: labels, classNames: (0..<classes).map { "c\($0)" })
    }

    func testVoteAgreesWithKNearestNeighborsForEveryK() throws {
        let train = try randomDataset(count: 40, width: 5, classes: 3, seed: 11)
        let queries = try randomDataset(count: 25, width: 5, classes: 3, seed: 12)
        for metric in DistanceMetric.allCases {
            var widest = KNearestNeighbors(k: train.count, metric: metric)
            try widest.fit(train)
            let lists = try widest.neighbors(of: queries)
            for k in 1...train.count {
                var model = KNearestNeighbors(k: k, metric: metric)
                try model.fit(train)
                let expected = try model.predict(queries)
                let voted = try (0..<queries.count).map { query in
                    try vote(neighborLabels: lists.neighbors(of: query).map { train.labels[Int($0)] }, k: k, classCount: 3)
                }
                XCTAssertEqual(voted, expected, "\(metric) k = \(k)")
            }
        }
    }

    func testVoteBreaksTiesByTheNearestNeighbour() throws {
        // A B B A: two votes each; A's first neighbour is nearer, so A wins.
        XCTAssertEqual(try vote(neighborLabels: [0, 1, 1, 0] as [Int32], k: 4, classCount: 2), 0)
        XCTAssertEqual(try vote(neighborLabels: [1, 0, 0, 1] as [Int32], k: 4, classCount: 2), 1)
        XCTAssertEqual(try vote(neighborLabels: [1, 0, 0, 1] as [Int32], k: 3, classCount: 2), 0)
        XCTAssertThrowsError(try vote(neighborLabels: [0] as [Int32], k: 2, classCount: 2))
        XCTAssertThrowsError(try vote(neighborLabels: [5] as [Int32], k: 1, classCount: 2))
    }

    /// Class 0 near 0, class 1 far away near 200; four of class 0, two of class 1, two folds.
    /// Each fold trains on 2 + 1 and validates on 2 + 1 whatever the shuffle, so: k = 1 and
    /// k = 2 (a 1–1 tie goes to the nearer, same-class neighbour) are always right; k = 3 asks
    /// the whole training part, whose majority is class 0, so class 1 is always wrong: 2/3.
    private func handMade() throws -> Dataset {
        try tinyDataset([[0, 0], [1, 0], [0, 2], [3, 1], [200, 200], [201, 199]],
                        labels: [0, 0, 0, 0, 1, 1], classNames: ["near", "far"])
    }

    func testFoldAccuraciesOnAHandMadeDataset() throws {
        let result = try CrossValidation(folds: 2, seed: 7).evaluateNearestNeighbors(handMade(), k: [3, 1, 2], metrics: [.l1, .l2])
        XCTAssertEqual(result.folds, 2)
        XCTAssertEqual(result.settings.map(\.k), [1, 2, 3, 1, 2, 3])
        XCTAssertEqual(result.settings.map(\.metric), [.l1, .l1, .l1, .l2, .l2, .l2])
        for setting in result.settings {
            let expected = setting.k == 3 ? 2.0 / 3 : 1
            XCTAssertEqual(setting.foldAccuracies.count, 2)
            for accuracy in setting.foldAccuracies { assertClose(accuracy, expected) }
            assertClose(setting.mean, expected)
            assertClose(setting.standardDeviation, 0)
        }
        XCTAssertEqual(result.best.k, 1)
        XCTAssertEqual(result.best.metric, .l1)
    }

    /// The prefix trick against fitting k-NN afresh for each fold and k.
    func testFoldAccuraciesMatchDirectKNearestNeighbors() throws {
        let dataset = try randomDataset(count: 45, width: 4, classes: 3, seed: 21)
        let validator = CrossValidation(folds: 3, seed: 5)
        let result = try validator.evaluateNearestNeighbors(dataset, k: [1, 4, 9], metrics: [.l2])
        let rounds = try dataset.kFoldIndices(folds: 3, seed: 5)
        for setting in result.settings {
            let direct = try rounds.map { round -> Double in
                var model = KNearestNeighbors(k: setting.k, metric: setting.metric)
                try model.fit(dataset.subset(round.train))
                let validation = dataset.subset(round.validation)
                return try accuracy(predicted: model.predict(validation), truth: validation.labels)
            }
            XCTAssertEqual(setting.foldAccuracies, direct, "k = \(setting.k)")
        }
    }

    func testSingleSplitGivesOneAccuracyPerSetting() throws {
        let result = try CrossValidation(validationFraction: 0.5, seed: 1).evaluateNearestNeighbors(handMade(), k: [1, 3],
                                                                                                     metrics: [.l1])
        XCTAssertEqual(result.folds, 1)
        XCTAssertEqual(result.validationFraction, 0.5)
        XCTAssertEqual(result.settings.map(\.foldAccuracies.count), [1, 1])
        assertClose(result.settings[0].mean, 1)
        assertClose(result.settings[1].mean, 2.0 / 3)
    }

    func testMeanAndStandardDeviation() {
        let setting = CrossValidationResult.Setting(k: 1, metric: .l1, foldAccuracies: [0.5, 0.7, 0.9])
        assertClose(setting.mean, 0.7)
        // Population deviation: √((0.2² + 0 + 0.2²) / 3).
        assertClose(setting.standardDeviation, (0.08 / 3).squareRoot())
    }

    func testBestSettingTieRules() throws {
        func setting(_ k: Int, _ metric: DistanceMetric, _ accuracy: Double) -> CrossValidationResult.Setting {
            .init(k: k, metric: metric, foldAccuracies: [accuracy, accuracy])
        }
        XCTAssertEqual(CrossValidationResult.best(of: [setting(1, .l1, 0.5), setting(7, .l2, 0.6)])?.k, 7)
        let tied = [setting(5, .l1, 0.6), setting(3, .l2, 0.6), setting(3, .l1, 0.6), setting(1, .l1, 0.4)]
        let best = CrossValidationResult.best(of: tied)
        XCTAssertEqual(best?.k, 3)
        XCTAssertEqual(best?.metric, .l1)
        XCTAssertNil(CrossValidationResult.best(of: []))
    }

    func testBadInputsNameTheValue() throws {
        let data = try handMade()
        func assertInvalid(_ text: String, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body()) { error in
                XCTAssertEqual((error as? PerceptError)?.kind, .invalidArgument, "\(error)")
                XCTAssertTrue((error as? PerceptError)?.reason.contains(text) ?? false, "\(error) lacks \(text)")
            }
        }
        assertInvalid("1") { _ = try CrossValidation(folds: 1).evaluateNearestNeighbors(data, k: [1], metrics: [.l1]) }
        assertInvalid("3 folds") { _ = try CrossValidation(folds: 3).evaluateNearestNeighbors(data, k: [1], metrics: [.l1]) }
        assertInvalid("empty") { _ = try CrossValidation(folds: 2).evaluateNearestNeighbors(data, k: [], metrics: [.l1]) }
        assertInvalid("empty") { _ = try CrossValidation(folds: 2).evaluateNearestNeighbors(data, k: [1], metrics: []) }
        assertInvalid("k = 0") { _ = try CrossValidation(folds: 2).evaluateNearestNeighbors(data, k: [1, 0], metrics: [.l1]) }
        assertInvalid("k = 4") { _ = try CrossValidation(folds: 2).evaluateNearestNeighbors(data, k: [4], metrics: [.l1]) }
        assertInvalid("1.5") {
            _ = try CrossValidation(validationFraction: 1.5).evaluateNearestNeighbors(data, k: [1], metrics: [.l1])
        }
        assertInvalid("0.0") {
            _ = try CrossValidation(validationFraction: 0).evaluateNearestNeighbors(data, k: [1], metrics: [.l1])
        }
    }

    func testResultRoundTripsThroughJSON() throws {
        let result = try CrossValidation(folds: 2, seed: 3).evaluateNearestNeighbors(handMade(), k: [1, 2], metrics: [.l2])
        let decoded = try JSONDecoder().decode(CrossValidationResult.self, from: JSONEncoder().encode(result))
        XCTAssertEqual(decoded, result)
    }
}
