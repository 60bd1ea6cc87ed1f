import PerceptCore
import PerceptData
@testable import PerceptModels
import TestSupport
import XCTest
import PerceptModelKit

final class ProbabilitiesTests: XCTestCase {
    func testSoftmaxRowsKnownValuesAndEdgeCases() {
        let scores = Tensor(shape: [3, 3], scalars: [0, 0, 0, 1, 2, 3, -.infinity, 0, -.infinity])
        let p = softmaxRows(scores)
        assertClose(Array(p.scalars[0..<3]), [1.0 / 3, 1.0 / 3, 1.0 / 3], rtol: 1e-6)
        let e = [1.0, M_E, M_E * M_E].map { $0 / (1 + M_E + M_E * M_E) }
        assertClose(Array(p.scalars[3..<6]), e.map(Float.init), rtol: 1e-5)
        XCTAssertEqual(Array(p.scalars[6..<9]), [0, 1, 0])
        // Large scores do not overflow: the row maximum is subtracted first.
        let large = softmaxRows(Tensor(shape: [1, 2], scalars: [1000, 1000]))
        XCTAssertEqual(large.scalars, [0.5, 0.5])
    }

    func testKNNRankingWithProbabilitiesEqualsItsTwoSeparateAnswers() throws {
        // Labels 0,1,1,2 along a line; queries between them.
        let train = try tinyDataset([[0], [10], [12], [30]], labels: [0, 1, 1, 2], classNames: ["a", "b", "c"])
        let queries = try tinyDataset([[1], [11], [25], [20]], labels: [0, 0, 0, 0], classNames: ["a", "b", "c"])
        var model = KNearestNeighbors(k: 3, metric: .l1)
        try model.fit(train)
        let together = try model.classRankingWithProbabilities(queries, k: 2)
        XCTAssertEqual(together.rankings, try model.topK(queries, k: 2))
        XCTAssertEqual(together.probabilities, try model.classProbabilities(for: queries))
        // Vote fractions are the probabilities (no softmax on top): query 11 has neighbours 10, 12, 0.
        XCTAssertEqual(Array(together.probabilities.scalars[3..<6]), [1.0 / 3, 2.0 / 3, 0])
    }

    func testNearestClassMeanProbabilitiesAreTheSoftmaxOfItsScores() throws {
        let train = try tinyDataset([[0], [2], [100], [102]], labels: [0, 0, 1, 1], classNames: ["dark", "light"])
        var model = NearestClassMean()
        try model.fit(train)
        let together = try model.classRankingWithProbabilities(train, k: 1)
        XCTAssertEqual(together.rankings.map { $0[0] }, [0, 0, 1, 1])
        XCTAssertEqual(together.probabilities, softmaxRows(try model.scores(for: train)))
        for row in 0..<4 {
            XCTAssertEqual(together.probabilities.scalars[row * 2] + together.probabilities.scalars[row * 2 + 1], 1, accuracy: 1e-6)
        }
    }
}
