import XCTest
import CKernels
import PerceptCore
import PerceptData
@testable import PerceptModels
import PerceptPreprocessing
import TestSupport
import PerceptModelKit

/// The byte kernels (preprocessing folded into the weights) against the Float path and the
/// Swift reference twins.
final class LinearPixelPathTests: XCTestCase {
    /// n = 19 rows (odd; the second row range starts at an odd row), d = 37 and 45 (16-, 8- and 1-column
    /// tails), c = 10, 3, 7 and 12 (full and partial groups of the kernels' five-class tiles).
    private func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = SeededRandom(seed: seed)
        return (0..<count).map { _ in UInt8(random.next() % 256) }
    }

    func testByteKernelsAndTheirScalarTwinsMatchTheReference() {
        let n = 19
        for d in [37, 45] {
        let x = randomBytes(n * d, seed: 1), xf = x.map(Float.init)
        for c in [10, 3, 7, 12] {
            let w = randomTensor(rows: c, columns: d, seed: 2).scalars, b = randomTensor(rows: 1, columns: c, seed: 3).scalars
            let g = randomTensor(rows: n, columns: c, seed: 4).scalars
            let expected = Dense.affineForwardReference(x: xf, n: n, d: d, weights: w, bias: b, c: c)
            let gradient = Dense.affineBackwardReference(dOut: g, x: xf, n: n, d: d, weights: w, c: c).dWeights
            var fast = [Float](repeating: .nan, count: n * c), slow = fast
            percept_affine_rows_u8(x, 0, 5, d, w, b, c, &fast)   // two calls: row ranges compose
            percept_affine_rows_u8(x, 5, n, d, w, b, c, &fast)
            percept_affine_rows_u8_scalar(x, 0, n, d, w, b, c, &slow)
            assertClose(fast, expected, rtol: 1e-4, atol: 1e-2, "rows c=\(c) d=\(d)")
            assertClose(slow, expected, rtol: 1e-4, atol: 1e-2, "scalar rows c=\(c)")
            var dwFast = [Float](repeating: .nan, count: c * d), dwSlow = dwFast
            percept_affine_weight_gradient_u8(g, x, n, d, c, 0, 20, &dwFast)  // column ranges compose
            percept_affine_weight_gradient_u8(g, x, n, d, c, 20, d, &dwFast)
            percept_affine_weight_gradient_u8_scalar(g, x, n, d, c, 0, d, &dwSlow)
            assertClose(dwFast, gradient, rtol: 1e-4, atol: 1e-2, "gradient c=\(c) d=\(d)")
            assertClose(dwSlow, gradient, rtol: 1e-4, atol: 1e-2, "scalar gradient c=\(c)")
        }
        }
    }

    /// One minibatch step on bytes with folded preprocessing equals the step on preprocessed Floats.
    func testPixelStepEqualsFloatStep() throws {
        let (n, d, c) = (19, 37, 10)
        let bytes = randomBytes(n * d, seed: 5)
        let dataset = try Dataset(height: 1, width: d, channels: 1, pixels: PixelStorage(copying: bytes),
                                  labels: (0..<n).map { Int32($0 % c) }, classNames: (0..<c).map { "c\($0)" })
        for preprocessing in [Preprocessing.meanImage, .channelStandardization, .none] {
            let (pipeline, matrix) = try InputPipeline.fitted(on: dataset, features: .pixels, preprocessing: preprocessing)
            let w = randomTensor(rows: c, columns: d, seed: 6).scalars.map { $0 * 0.1 }, b = randomTensor(rows: 1, columns: c, seed: 7).scalars
            for loss in ClassificationLoss.allCases {
                var floatGradients: [[Float]] = [[Float](repeating: 0, count: c * d), [Float](repeating: 0, count: c)]
                var byteGradients = floatGradients
                let floatLoss = matrix.scalars.withUnsafeBufferPointer {
                    LinearClassifier.lossAndGradients(batch: .features($0.baseAddress!), rows: n, d: d, c: c, labels: dataset.labels[...],
                                                      weights: w, bias: b, loss: loss, regularization: 0.01, gradients: &floatGradients)
                }
                let byteLoss = bytes.withUnsafeBufferPointer {
                    LinearClassifier.lossAndGradients(batch: .pixels($0.baseAddress!, PixelFold(pipeline)), rows: n, d: d, c: c,
                                                      labels: dataset.labels[...], weights: w, bias: b, loss: loss, regularization: 0.01,
                                                      threads: 2, gradients: &byteGradients)
                }
                assertClose(byteLoss, floatLoss, rtol: 1e-5, atol: 1e-6, "\(preprocessing) \(loss)")
                assertClose(byteGradients[0], floatGradients[0], rtol: 1e-3, atol: 1e-5, "\(preprocessing) \(loss) dW")
                assertClose(byteGradients[1], floatGradients[1], rtol: 1e-4, atol: 1e-6, "\(preprocessing) \(loss) db")
            }
        }
    }

    /// Batches big enough for the helper threads to take parts (≥ 32 rows, ≥ 256 columns a part) give
    /// exactly the one-thread step: each part runs the same kernel on its own rows or columns.
    func testHelperThreadsGiveExactlyTheOneThreadStep() throws {
        let (n, d, c) = (97, 600, 10)
        let bytes = randomBytes(n * d, seed: 8)
        let dataset = try Dataset(height: 1, width: d, channels: 1, pixels: PixelStorage(copying: bytes),
                                  labels: (0..<n).map { Int32($0 % c) }, classNames: (0..<c).map { "c\($0)" })
        let (pipeline, _) = try InputPipeline.fitted(on: dataset, features: .pixels, preprocessing: .meanImage)
        let w = randomTensor(rows: c, columns: d, seed: 9).scalars.map { $0 * 0.01 }, b = randomTensor(rows: 1, columns: c, seed: 10).scalars
        let fold = PixelFold(pipeline)
        func step(threads: Int) -> (Double, [[Float]]) {
            var gradients: [[Float]] = [[Float](repeating: .nan, count: c * d), [Float](repeating: .nan, count: c)]
            let loss = bytes.withUnsafeBufferPointer {
                LinearClassifier.lossAndGradients(batch: .pixels($0.baseAddress!, fold), rows: n, d: d, c: c, labels: dataset.labels[...],
                                                  weights: w, bias: b, loss: .hinge, regularization: 0.01, threads: threads,
                                                  gradients: &gradients)
            }
            return (loss, gradients)
        }
        let one = step(threads: 1)
        XCTAssertTrue(one.1[0].allSatisfy(\.isFinite))
        for threads in [2, 3, 2] {  // the same fold re-creates its helpers when the count changes
            let many = step(threads: threads)
            XCTAssertEqual(many.0, one.0, "\(threads) threads: loss")
            XCTAssertEqual(many.1[0], one.1[0], "\(threads) threads: dW")
            XCTAssertEqual(many.1[1], one.1[1], "\(threads) threads: db")
        }
        var scores1 = [Float](repeating: .nan, count: n * c), scores2 = scores1
        bytes.withUnsafeBufferPointer { x in
            Dense.pixelAffineForward(x: x.baseAddress!, n: n, d: d, weights: w, bias: b, c: c, fold: fold, out: &scores1, threads: 1)
            Dense.pixelAffineForward(x: x.baseAddress!, n: n, d: d, weights: w, bias: b, c: c, fold: fold, out: &scores2, threads: 2)
        }
        XCTAssertEqual(scores2, scores1)
    }

    func testTrainingPreparesPixelBytesOnlyForPixels() throws {
        let data = try separableToySet()
        let pixels = try PreparedData.training(data, features: .pixels, preprocessing: .meanImage, seed: 1)
        XCTAssertEqual(pixels.pixelBytes?.count, pixels.features.count)
        // Row r of the bytes, preprocessed, is row r of the features.
        let row = Array(pixels.pixelBytes![2..<4]).map { (Float($0) / 255 - pixels.pipeline.offset[0]) * pixels.pipeline.scale[0] }
        XCTAssertEqual(row[0], pixels.features.scalars[2], accuracy: 1e-6)
        let hog = try PreparedData.training(try Dataset(height: 16, width: 16, channels: 3,
                                                        pixels: PixelStorage(copying: randomBytes(2 * 768, seed: 8)),
                                                        labels: [0, 1], classNames: ["a", "b"]),
                                            features: .standardHOGColor, preprocessing: .featureStandardization, seed: 1)
        XCTAssertNil(hog.pixelBytes)
    }
}
