import Foundation
import XCTest
import PerceptCore
@testable import PerceptModels
import TestSupport

/// Central differences of a Double-valued function of Float inputs. The step actually taken,
/// fl(x + h) − fl(x − h), is measured in Double, so Float rounding of x ± h adds no error.
func numericGradient(_ values: [Float], step h: Float, _ f: ([Float]) -> Double) -> [Double] {
    var x = values
    return values.indices.map { i in
        let original = x[i]
        let plus = original + h, minus = original - h
        x[i] = plus
        let up = f(x)
        x[i] = minus
        let down = f(x)
        x[i] = original
        return (up - down) / (Double(plus) - Double(minus))
    }
}

/// Fails on the first element whose relative error |a − n| / max(|a| + |n|, floor) exceeds `tolerance`.
func assertGradientsMatch(_ analytic: [Float], _ numeric: [Double], tolerance: Double, floor: Double = 1e-8,
                          _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(analytic.count, numeric.count, message, file: file, line: line)
    var worst = 0.0
    for (a, n) in zip(analytic, numeric) {
        let error = abs(Double(a) - n) / max(abs(Double(a)) + abs(n), floor)
        worst = max(worst, error)
    }
    XCTAssertLessThan(worst, tolerance, "largest relative gradient error \(worst) \(message)", file: file, line: line)
}

final class LinearLossTests: XCTestCase {
    private let labels: [Int32] = [0, 2, 1, 3, 2]

    func testHingeGradientMatchesNumericGradient() {
        let scores = randomTensor(rows: 5, columns: 4, seed: 11)
        let analytic = multiclassHingeLoss(scores: scores, labels: labels).gradient.scalars
        // Piecewise linear: a step of 1e-4 does not cross a kink for these seeded scores.
        let numeric = numericGradient(scores.scalars, step: 1e-4) {
            multiclassHingeLoss(scores: Tensor(shape: [5, 4], scalars: $0), labels: self.labels).loss
        }
        assertGradientsMatch(analytic, numeric, tolerance: 1e-6)
    }

    func testSoftmaxGradientMatchesNumericGradient() {
        let scores = randomTensor(rows: 5, columns: 4, seed: 12)
        let analytic = softmaxCrossEntropyLoss(scores: scores, labels: labels).gradient.scalars
        let numeric = numericGradient(scores.scalars, step: 1e-3) {
            softmaxCrossEntropyLoss(scores: Tensor(shape: [5, 4], scalars: $0), labels: self.labels).loss
        }
        assertGradientsMatch(analytic, numeric, tolerance: 1e-6)
    }

    func testRegularizationGradientMatchesNumericGradient() {
        let weights = randomTensor(rows: 3, columns: 4, seed: 13)
        let analytic = l2Regularization(weights, strength: 0.7).gradient.scalars
        let numeric = numericGradient(weights.scalars, step: 1e-2) {
            l2Regularization(Tensor(shape: [3, 4], scalars: $0), strength: 0.7).loss
        }
        assertGradientsMatch(analytic, numeric, tolerance: 1e-6)
    }

    func testZeroScoresGiveTheKnownLosses() {
        for c in [2, 3, 10] {
            let zeros = Tensor(zeros: [4, c]), labels: [Int32] = [0, 1, 1, 0]
            assertClose(multiclassHingeLoss(scores: zeros, labels: labels).loss, Double(c - 1), rtol: 1e-12)
            assertClose(softmaxCrossEntropyLoss(scores: zeros, labels: labels).loss, log(Double(c)), rtol: 1e-12)
        }
    }

    func testHingeLossByHand() {
        // The lecture's example: cat image scores (3.2, 5.1, -1.7), correct class cat → 2.9.
        let scores = Tensor(shape: [1, 3], scalars: [3.2, 5.1, -1.7])
        assertClose(multiclassHingeLoss(scores: scores, labels: [0]).loss, 2.9, rtol: 1e-6)
        // Softmax: −log(e^3.2 / (e^3.2 + e^5.1 + e^−1.7)) ≈ 2.04.
        let expected = -log(exp(3.2) / (exp(3.2) + exp(5.1) + exp(-1.7)))
        assertClose(softmaxCrossEntropyLoss(scores: scores, labels: [0]).loss, expected, rtol: 1e-6)
    }

    func testSoftmaxIsStableForHugeScores() {
        let scores = Tensor(shape: [1, 3], scalars: [1000, 0, -1000])
        let result = softmaxCrossEntropyLoss(scores: scores, labels: [1])
        assertClose(result.loss, 1000, rtol: 1e-9)
        XCTAssertTrue(result.gradient.scalars.allSatisfy(\.isFinite))
    }

    func testAffineKernelsMatchTheirReferenceTwins() {
        let (n, d, c) = (7, 13, 5)
        let x = randomTensor(rows: n, columns: d, seed: 1), w = randomTensor(rows: c, columns: d, seed: 2)
        let b = randomTensor(rows: 1, columns: c, seed: 3).scalars, dOut = randomTensor(rows: n, columns: c, seed: 4)
        let fast = affineForward(x, weights: w, bias: b)
        assertClose(fast.scalars, Dense.affineForwardReference(x: x.scalars, n: n, d: d, weights: w.scalars, bias: b, c: c),
                    rtol: 1e-5, atol: 1e-5)
        let (dX, dW, db) = affineBackward(dOut, x: x, weights: w)
        let reference = Dense.affineBackwardReference(dOut: dOut.scalars, x: x.scalars, n: n, d: d, weights: w.scalars, c: c)
        assertClose(dX.scalars, reference.dX, rtol: 1e-5, atol: 1e-5)
        assertClose(dW.scalars, reference.dWeights, rtol: 1e-5, atol: 1e-5)
        assertClose(db, reference.dBias, rtol: 1e-5, atol: 1e-5)
    }

    /// Both layers checked against numeric gradients of L = Σ R ⊙ layer(input) for a fixed random R.
    func testAffineAndReLULayerGradients() {
        let (n, d, h) = (4, 6, 3)
        let x = randomTensor(rows: n, columns: d, seed: 5), w = randomTensor(rows: h, columns: d, seed: 6)
        let b = randomTensor(rows: 1, columns: h, seed: 7).scalars, r = randomTensor(rows: n, columns: h, seed: 8)
        func dot(_ y: Tensor) -> Double { zip(y.scalars, r.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
        let (dX, dW, db) = affineBackward(r, x: x, weights: w)
        // Affine maps are linear: any step gives the exact slope, so a large one avoids rounding noise.
        assertGradientsMatch(dX.scalars, numericGradient(x.scalars, step: 0.5) {
            dot(affineForward(Tensor(shape: [n, d], scalars: $0), weights: w, bias: b)) }, tolerance: 1e-5)
        assertGradientsMatch(dW.scalars, numericGradient(w.scalars, step: 0.5) {
            dot(affineForward(x, weights: Tensor(shape: [h, d], scalars: $0), bias: b)) }, tolerance: 1e-5)
        assertGradientsMatch(db, numericGradient(b, step: 0.5) { dot(affineForward(x, weights: w, bias: $0)) }, tolerance: 1e-5)

        // ReLU: inputs kept at least 0.05 away from the kink, steps of 0.01.
        let input = Tensor(shape: [n, h], scalars: randomTensor(rows: n, columns: h, seed: 9).scalars.map { $0 >= 0 ? $0 + 0.05 : $0 - 0.05 })
        let dInput = reluBackward(r, input: input)
        assertGradientsMatch(dInput.scalars, numericGradient(input.scalars, step: 0.01) {
            dot(reluForward(Tensor(shape: [n, h], scalars: $0))) }, tolerance: 1e-6)
    }
}
