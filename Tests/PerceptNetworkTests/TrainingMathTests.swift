import XCTest
import PerceptCore
import TestSupport
@testable import PerceptNetwork

final class CrossEntropyTests: XCTestCase {
    func loss(_ logits: [Float], _ labels: [Int32], smoothing: Float, gradient: UnsafeMutablePointer<Float>? = nil) -> CrossEntropy.Result {
        logits.withUnsafeBufferPointer {
            CrossEntropyKernels.softmaxCrossEntropy(logits: $0.baseAddress!, labels: labels, classes: 3, smoothing: smoothing,
                                             dLogits: gradient)
        }
    }

    func testKnownValues() {
        // logits [1, 2, 3], label 2: −log(e³/(e+e²+e³)) = 0.40760596
        assertClose(loss([1, 2, 3], [2], smoothing: 0).loss, 0.4076059644, rtol: 1e-6)
        // smoothing 0.3, 3 classes: target [0.1, 0.1, 0.8]; loss = −Σ t·log p
        let logp = [1.0, 2.0, 3.0].map { $0 - log(exp(1.0) + exp(2.0) + exp(3.0)) }
        let expected = -(0.1 * logp[0] + 0.1 * logp[1] + 0.8 * logp[2])
        assertClose(loss([1, 2, 3], [2], smoothing: 0.3).loss, expected, rtol: 1e-6)
        XCTAssertEqual(loss([1, 2, 3, 5, 0, 0], [2, 1], smoothing: 0).correct, 1)
    }

    func testGradientMatchesFiniteDifferences() {
        var logits = randomValues(12, seed: 1, scale: 3)
        let labels: [Int32] = [0, 2, 1, 1]
        var gradient = [Float](repeating: 0, count: 12)
        _ = gradient.withUnsafeMutableBufferPointer { loss(logits, labels, smoothing: 0.2, gradient: $0.baseAddress!) }
        let h: Float = 1e-2
        for i in 0..<12 {
            logits[i] += h
            let plus = loss(logits, labels, smoothing: 0.2).loss
            logits[i] -= 2 * h
            let minus = loss(logits, labels, smoothing: 0.2).loss
            logits[i] += h
            XCTAssertEqual(Double(gradient[i]), (plus - minus) / Double(2 * h), accuracy: 1e-4, "logit \(i)")
        }
    }
}

final class OptimizerTests: XCTestCase {
    func parameter(_ value: [Float], gradient: [Float], decays: Bool = true) -> Parameter {
        let p = Parameter(name: "w", shape: [value.count], value: value, decays: decays)
        p.gradient = gradient
        return p
    }

    func testSGDMomentumByHand() {
        let p = parameter([1], gradient: [0.5])
        let sgd = SGD(momentum: 0.9)
        sgd.step([p], learningRate: 0.1)        // v = 0.5, w = 1 − 0.05 = 0.95
        assertClose(p.value, [0.95])
        p.gradient = [0.2]
        sgd.step([p], learningRate: 0.1)        // v = 0.45 + 0.2 = 0.65, w = 0.95 − 0.065 = 0.885
        assertClose(p.value, [0.885])
    }

    func testNesterovAndWeightDecayByHand() {
        let p = parameter([2], gradient: [1])
        let nesterov = SGD(momentum: 0.5, nesterov: true, weightDecay: 0.1)
        // coupled decay: g' = 1 + 0.2 = 1.2, v = 1.2, update = g' + μv = 1.8, w = 2 − 0.18 = 1.82
        nesterov.step([p], learningRate: 0.1)
        assertClose(p.value, [1.82])
        let q = parameter([2], gradient: [1])
        let decoupled = SGD(momentum: 0, weightDecay: 0.1, decoupledWeightDecay: true)
        // w = 2 − 0.1·1 − 0.1·0.1·2 = 1.88
        decoupled.step([q], learningRate: 0.1)
        assertClose(q.value, [1.88])
        // no decay on parameters that do not decay, and frozen parameters stay put
        let bias = parameter([2], gradient: [0], decays: false)
        let frozen = parameter([3], gradient: [5])
        frozen.trainable = false
        decoupled.step([bias, frozen], learningRate: 0.1)
        XCTAssertEqual(bias.value, [2])
        XCTAssertEqual(frozen.value, [3])
    }

    func testAdamAndAdamWByHand() {
        // First Adam step moves every weight by η·sign(g) (m̂ = g, v̂ = g²), up to ε.
        let p = parameter([1, -1], gradient: [0.3, -4])
        let adam = Adam(weightDecay: 0)
        adam.step([p], learningRate: 0.01)
        assertClose(p.value, [0.99, -0.99], rtol: 1e-6)
        // Second step, g = [0.1, 0]: m = [0.9·0.03 + 0.01, 0.9·(−0.4)] = [0.037, −0.36] / (1 − 0.81)
        p.gradient = [0.1, 0]
        adam.step([p], learningRate: 0.01)
        let m = [0.037 / 0.19, -0.36 / 0.19]
        let v = [(0.999 * 0.001 * 0.09 + 0.001 * 0.01) / (1 - 0.998001), (0.999 * 0.001 * 16) / (1 - 0.998001)]
        let expected = [0.99 - 0.01 * m[0] / (v[0].squareRoot() + 1e-8), -0.99 - 0.01 * m[1] / (v[1].squareRoot() + 1e-8)]
        assertClose(p.value, expected.map(Float.init), rtol: 1e-5)
        // AdamW: the decay is applied to the weight directly: w = 1 − η·1 − η·λ·1
        let q = parameter([1], gradient: [2])
        Adam(weightDecay: 0.5, decoupledWeightDecay: true).step([q], learningRate: 0.1)
        assertClose(q.value, [1 - 0.1 - 0.05], rtol: 1e-6)
    }
}

final class ScheduleTests: XCTestCase {
    func testWarmupThenConstant() {
        let s = LearningRateSchedule(peak: 1, shape: .constant, warmupSteps: 4)
        XCTAssertEqual((0..<6).map { s.learningRate(step: $0, totalSteps: 10) }, [0.25, 0.5, 0.75, 1, 1, 1])
    }

    func testStepCosineOneCycle() {
        let step = LearningRateSchedule(peak: 1, shape: .step(every: 2, factor: 0.1))
        assertClose(step.learningRate(step: 3, totalSteps: 10), 0.1)
        assertClose(step.learningRate(step: 4, totalSteps: 10), 0.01)
        let cosine = LearningRateSchedule(peak: 2, shape: .cosine(final: 0))
        assertClose(cosine.learningRate(step: 0, totalSteps: 10), 2)
        assertClose(cosine.learningRate(step: 5, totalSteps: 10), 1, atol: 1e-12)
        assertClose(cosine.learningRate(step: 10, totalSteps: 10), 0, atol: 1e-12)
        let cycle = LearningRateSchedule(peak: 1, shape: .oneCycle(start: 0.2, peakAt: 0.25, final: 0))
        assertClose(cycle.learningRate(step: 0, totalSteps: 100), 0.2)
        assertClose(cycle.learningRate(step: 25, totalSteps: 100), 1)
        assertClose(cycle.learningRate(step: 10, totalSteps: 100), 0.2 + 0.8 * 0.4)
        assertClose(cycle.learningRate(step: 100, totalSteps: 100), 0, atol: 1e-12)
        assertClose(cycle.learningRate(step: 62, totalSteps: 100), 1 - 37.0 / 75, rtol: 1e-9)
    }
}
