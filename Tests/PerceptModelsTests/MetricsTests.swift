import XCTest
import Foundation
import PerceptCore
import PerceptModels
import PerceptEvaluation
import TestSupport
import PerceptModelKit

final class ConfusionMatrixTests: XCTestCase {
    let names = ["cat", "dog", "bird", "fish"]
    // cat: 3 items (2 right, 1 called dog); dog: 1 item, right; bird: 2 items, both called cat;
    // fish: absent and never predicted. Bird is never predicted, so its precision is undefined.
    let truth: [Int32] = [0, 0, 0, 1, 2, 2]
    let predicted: [Int32] = [0, 0, 1, 1, 0, 0]

    func testCountsAndAccuracy() throws {
        let matrix = try ConfusionMatrix(truth: truth, predicted: predicted, classNames: names)
        XCTAssertEqual(matrix.counts, [[2, 1, 0, 0], [0, 1, 0, 0], [2, 0, 0, 0], [0, 0, 0, 0]])
        XCTAssertEqual(matrix.total, 6)
        XCTAssertEqual(matrix.correct, 3)
        XCTAssertEqual(matrix.accuracy, 0.5)
        XCTAssertEqual((0..<4).map(matrix.support(of:)), [3, 1, 2, 0])
        XCTAssertEqual((0..<4).map(matrix.predictedCount(of:)), [4, 2, 0, 0])
    }

    func testReportMatchesHandComputedValues() throws {
        let report = ClassificationReport(try ConfusionMatrix(truth: truth, predicted: predicted, classNames: names))
        let cat = report.classes[0], dog = report.classes[1], bird = report.classes[2], fish = report.classes[3]
        XCTAssertEqual(cat.precision, 0.5)
        XCTAssertEqual(cat.recall ?? 0, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(cat.f1 ?? 0, 4.0 / 7, accuracy: 1e-12)
        XCTAssertEqual(dog.precision, 0.5)
        XCTAssertEqual(dog.recall, 1)
        XCTAssertEqual(dog.f1 ?? 0, 2.0 / 3, accuracy: 1e-12)
        XCTAssertNil(bird.precision, "never predicted: precision undefined")
        XCTAssertEqual(bird.recall, 0)
        XCTAssertEqual(bird.f1, 0)
        XCTAssertEqual(bird.support, 2)
        XCTAssertNil(fish.precision)
        XCTAssertNil(fish.recall)
        XCTAssertNil(fish.f1)
        XCTAssertEqual(report.accuracy, 0.5)
        // Averages over cat, dog, bird (fish neither occurs nor is predicted); bird's precision counts as 0.
        assertClose(report.macroAverage.precision, 1.0 / 3)
        assertClose(report.macroAverage.recall, 5.0 / 9)
        assertClose(report.macroAverage.f1, 26.0 / 63)
        assertClose(report.weightedAverage.precision, 1.0 / 3)
        assertClose(report.weightedAverage.recall, 0.5)
        assertClose(report.weightedAverage.f1, 25.0 / 63)
        XCTAssertEqual(report.macroAverage.support, 6)
    }

    func testRenderedTablesAreAligned() throws {
        let matrix = try ConfusionMatrix(truth: [0, 1, 1], predicted: [0, 1, 0], classNames: ["cat", "dog"])
        XCTAssertEqual(matrix.rendered(), """
            true \\ predicted  cat  dog
            cat                 1    0
            dog                 1    1

            """)
        let report = ClassificationReport(try ConfusionMatrix(truth: truth, predicted: predicted, classNames: names))
        let text = report.rendered()
        let lines = text.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "             precision    recall  f1-score   support")
        XCTAssertEqual(lines[1], "         cat      0.50      0.67      0.57         3")
        XCTAssertEqual(lines[3], "        bird       n/a      0.00      0.00         2")
        XCTAssertEqual(lines[5], "    accuracy                          0.50         6")
        XCTAssertEqual(Set(lines.map(\.count)).count, 1, "every row the same width:\n\(text)")
    }

    func testJSONRoundTrip() throws {
        let matrix = try ConfusionMatrix(truth: truth, predicted: predicted, classNames: names)
        let report = ClassificationReport(matrix)
        XCTAssertEqual(try JSONDecoder().decode(ConfusionMatrix.self, from: JSONEncoder().encode(matrix)), matrix)
        XCTAssertEqual(try JSONDecoder().decode(ClassificationReport.self, from: JSONEncoder().encode(report)), report)
    }

    func testBadLabelsAreRejected() {
        XCTAssertThrowsError(try ConfusionMatrix(truth: [0, 1], predicted: [0], classNames: names))
        XCTAssertThrowsError(try ConfusionMatrix(truth: [4], predicted: [0], classNames: names))
        XCTAssertThrowsError(try ConfusionMatrix(truth: [0], predicted: [-1], classNames: names))
        XCTAssertThrowsError(try accuracy(predicted: [0], truth: [0, 1]))
    }
}

final class TopKAccuracyTests: XCTestCase {
    // Row 0 ties classes 0 and 1; row 2 ties all three. Ties rank the lower class index first.
    let scores = Tensor(shape: [3, 3], scalars: [0.5, 0.5, 0, 0.1, 0.2, 0.7, 0.3, 0.3, 0.3])

    func testTiesRankTheLowerClassFirst() throws {
        let truth: [Int32] = [1, 0, 2]
        XCTAssertEqual(try topKAccuracy(scores: scores, truth: truth, k: 1), 0)
        XCTAssertEqual(try topKAccuracy(scores: scores, truth: truth, k: 2), 1.0 / 3)
        XCTAssertEqual(try topKAccuracy(scores: scores, truth: truth, k: 3), 1)
        XCTAssertEqual(try topKAccuracy(scores: scores, truth: [0, 2, 0], k: 1), 1)
    }

    func testRankingsAgreeWithScores() throws {
        let rankings = rankClasses(byScores: scores, k: 3)
        XCTAssertEqual(rankings, [[0, 1, 2], [2, 1, 0], [0, 1, 2]])
        for k in 1...3 {
            for truth: [Int32] in [[1, 0, 2], [0, 2, 0], [2, 1, 1]] {
                XCTAssertEqual(try topKAccuracy(rankings: rankings, truth: truth, k: k),
                               try topKAccuracy(scores: scores, truth: truth, k: k), "k \(k) truth \(truth)")
            }
        }
    }

    func testBadArgumentsAreRejected() {
        XCTAssertThrowsError(try topKAccuracy(scores: scores, truth: [0, 0, 0], k: 0))
        XCTAssertThrowsError(try topKAccuracy(scores: scores, truth: [0, 0], k: 1))
        XCTAssertThrowsError(try topKAccuracy(scores: scores, truth: [0, 0, 3], k: 1))
    }
}
