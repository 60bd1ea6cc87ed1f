import XCTest
@testable import Percept

/// The transfer head's pieces: its gradient against finite differences, L-BFGS on a known
/// minimum, feature standardisation and the backbone's preprocessing.
final class TransferHeadTests: XCTestCase {
    private func randomArray(_ count: Int, _ random: inout SeededRandom) -> [Float] {
        (0..<count).map { _ in random.nextGaussian() }
    }

    /// Central differences of the loss against the analytic gradient, for both heads.
    func testHeadGradientsMatchFiniteDifferences() {
        var random = SeededRandom(seed: 3)
        let (n, d, c) = (11, 6, 4)
        let x = randomArray(n * d, &random)
        let labels = (0..<n).map { Int32($0 % c) }
        for kind in ClassifierHead.Kind.allCases {
            var head = ClassifierHead(kind: kind, inputs: d, hidden: 5, classes: c, seed: 1)
            head.parameters = head.parameters.map { $0 + 0.3 * random.nextGaussian() }
            let (_, gradient) = head.lossAndGradient(head.parameters, x, labels: labels, l2: 0.05)
            let step: Float = 1e-2
            for i in head.parameters.indices {
                var plus = head.parameters, minus = head.parameters
                plus[i] += step
                minus[i] -= step
                let numeric = (head.lossAndGradient(plus, x, labels: labels, l2: 0.05).loss
                               - head.lossAndGradient(minus, x, labels: labels, l2: 0.05).loss) / Double(2 * step)
                XCTAssertEqual(Double(gradient[i]), numeric, accuracy: 2e-3 + 1e-2 * abs(numeric), "\(kind) parameter \(i)")
            }
        }
    }

    func testLBFGSFindsTheMinimumOfAQuadratic() {
        // f(x) = Σ aᵢ (xᵢ − cᵢ)², minimum at c.
        let a: [Float] = [1, 10, 100, 0.5], c: [Float] = [3, -2, 0.5, 7]
        let result = LBFGS(iterations: 100).minimize(from: [0, 0, 0, 0]) { x in
            var loss = 0.0
            var gradient = [Float](repeating: 0, count: 4)
            for i in 0..<4 {
                loss += Double(a[i] * (x[i] - c[i]) * (x[i] - c[i]))
                gradient[i] = 2 * a[i] * (x[i] - c[i])
            }
            return (loss, gradient)
        }
        assertClose(result.point, c, tolerance: 1e-3)
        XCTAssertLessThan(result.loss, 1e-6)
    }

    func testStandardizationGivesZeroMeanUnitVariance() {
        let features = Tensor(shape: [4, 2], scalars: [1, 5, 3, 5, 5, 5, 7, 5])
        let standardization = FeatureStandardization(fittedOn: features)
        let x = standardization.apply(features)
        XCTAssertEqual(standardization.mean, [4, 5])
        assertClose([x[0], x[2], x[4], x[6]], [-3, -1, 1, 3].map { $0 / Float(5).squareRoot() })
        XCTAssertEqual([x[1], x[3]], [0, 0], "a constant feature keeps scale 1")
    }

    /// Shorter side already 256: no resampling, so the crop's offsets show in the pixel values.
    func testShorterCropTakesTheCentredSquareAndNormalises() {
        var image = Image(width: 300, height: 256)
        for y in 0..<256 { for x in 0..<300 { image[x, y] = (UInt8(x % 256), UInt8(y), 9) } }
        let spec = BackboneSpec(name: "test")
        XCTAssertEqual(spec.resizeTo, 256)
        let fitted = spec.fitted(image)
        XCTAssertEqual(fitted.size, ImageSize(width: 224, height: 224))
        XCTAssertEqual(fitted[0, 0].r, 38, "(300 − 224) / 2 columns cut on the left")
        XCTAssertEqual(fitted[0, 0].g, 16, "(256 − 224) / 2 rows cut at the top")
        let input = spec.input(for: image)
        XCTAssertEqual(input.count, 224 * 224 * 3)
        XCTAssertEqual(input[0], (38 - 127) / 128)
        XCTAssertEqual(input[2], (9 - 127) / 128)
        // A 512×768 photo: shorter side 512 → 256 (the other 384), then the centre 224².
        XCTAssertEqual(spec.fitted(Image(width: 512, height: 768, fill: (200, 100, 50))).size, ImageSize(width: 224, height: 224))
        XCTAssertEqual(spec.fitted(Image(width: 512, height: 768, fill: (200, 100, 50)))[100, 100].r, 200)
    }

    private func assertClose(_ a: [Float], _ b: [Float], tolerance: Float = 1e-4, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) where abs(x - y) > tolerance * max(1, abs(y)) {
            XCTFail("\(x) ≠ \(y)", file: file, line: line)
            return
        }
    }
}
