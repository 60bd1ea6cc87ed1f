import XCTest
import PerceptCore
@testable import PerceptNetwork

/// Random values in ±scale from a seed.
func randomValues(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var random = SeededRandom(seed: seed)
    return (0..<count).map { _ in (random.nextUnitFloat() * 2 - 1) * scale }
}

/// Distinct values, well apart (≥ 0.05), in random order: no ties for max pooling, none near
/// ReLU's kink at 0, so finite differences never straddle a corner.
func distinctValues(_ count: Int, seed: UInt64) -> [Float] {
    var random = SeededRandom(seed: seed)
    let values = (0..<count).map { i in Float(i - count / 2) * 0.05 + (i >= count / 2 ? 0.025 : -0.025) }
    return values.shuffled(using: &random)
}

/// Runs a forward pass and returns the output as an array.
func outputOf(_ layer: any Layer, _ input: [Float], batch: Int, mode: ForwardMode = .training) -> [Float] {
    let buffer = FloatBuffer()
    buffer.load(input)
    return layer.forward(buffer, batch: batch, mode: mode).array(batch * layer.outputShape.count)
}

/// Compares the layer's backward pass with central differences of L = Σ r·y, where r is a fixed
/// random projection, for the input and every trainable parameter (up to `samples` elements each).
///
/// The loss is summed in Double; with step `h` = 1e-2 on O(1) values the Float rounding noise in
/// (L(x+h) − L(x−h))/2h is ~1e-4·|L|/size, so the tolerance is |numeric − analytic| ≤
/// `atol` + `rtol`·|analytic| with atol 2e-3, rtol 2e-2 unless a test states otherwise.
func checkGradients(_ layer: any Layer, input: [Float], batch: Int, h: Float = 1e-2, samples: Int = 48,
                    atol: Float = 2e-3, rtol: Float = 2e-2, beforeForward: () -> Void = {},
                    file: StaticString = #filePath, line: UInt = #line) {
    if let mismatch = gradientMismatch(layer, input: input, batch: batch, h: h, samples: samples, atol: atol, rtol: rtol,
                                       beforeForward: beforeForward) {
        XCTFail(mismatch, file: file, line: line)
    }
}

/// The first gradient element that disagrees with its finite difference, described; nil if none.
func gradientMismatch(_ layer: any Layer, input: [Float], batch: Int, h: Float = 1e-2, samples: Int = 48,
                      atol: Float = 2e-3, rtol: Float = 2e-2, beforeForward: () -> Void = {}) -> String? {
    let outCount = batch * layer.outputShape.count
    let r = randomValues(outCount, seed: 99)
    let inputBuffer = FloatBuffer()
    inputBuffer.load(input)
    func loss() -> Double {
        beforeForward()
        let y = layer.forward(inputBuffer, batch: batch, mode: .training).view(outCount)
        var total = 0.0
        for i in 0..<outCount { total += Double(r[i]) * Double(y[i]) }
        return total
    }
    _ = loss()
    let dOut = FloatBuffer()
    dOut.load(r)
    let dInput = layer.backward(dOut, batch: batch).array(input.count)
    let analyticParameters = layer.parameters.map(\.gradient)

    var mismatch: String?
    func compare(_ label: String, count: Int, analytic: [Float], perturb: (Int, Float) -> Void) {
        guard mismatch == nil else { return }
        var random = SeededRandom(seed: 5)
        let indices = count <= samples ? Array(0..<count) : (0..<samples).map { _ in Int(random.next() % UInt64(count)) }
        for i in indices {
            perturb(i, h)
            let plus = loss()
            perturb(i, -2 * h)
            let minus = loss()
            perturb(i, h)
            let numeric = Float((plus - minus) / Double(2 * h))
            if !(abs(numeric - analytic[i]) <= atol + rtol * abs(analytic[i])) {
                mismatch = "\(layer.name) ∂L/∂\(label)[\(i)]: analytic \(analytic[i]) vs numeric \(numeric)"
                return
            }
        }
    }
    if layer.needsInputGradient {
        compare("input", count: input.count, analytic: dInput) { i, delta in inputBuffer.pointer[i] += delta }
    }
    for (p, analytic) in zip(layer.parameters, analyticParameters) where p.trainable {
        compare(p.name, count: p.count, analytic: analytic) { i, delta in p.value[i] += delta }
    }
    return mismatch
}
