import Foundation
import XCTest
import PerceptCore
import PerceptData
import TestSupport
@testable import PerceptNetwork
import PerceptModelKit
import PerceptPreprocessing

/// The pieces of airbench94's recipe: whitening, identity filters, the BatchNorm-bias scaler,
/// lookahead, alternating flips and test-time views.
final class RecipeTests: XCTestCase {
    func testSymmetricEigenKnownAnswerAndDefinition() throws {
        let (values, vectors) = try LAPACK.symmetricEigen([2, 1, 1, 2], n: 2)
        assertClose(values[0], 1, rtol: 1e-12, atol: 1e-12)
        assertClose(values[1], 3, rtol: 1e-12, atol: 1e-12)
        assertClose(abs(vectors[2] * vectors[3] * 2), 1, rtol: 1e-12, atol: 1e-12)  // (1, 1)/√2 for 3
        assertClose(vectors[0] * vectors[1] * 2, -1, rtol: 1e-12, atol: 1e-12)       // (1, −1)/√2 for 1
        // A random symmetric 12×12: A·v = λ·v for every pair.
        let n = 12
        let r = randomValues(n * n, seed: 4).map(Double.init)
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { a[i * n + j] = r[i * n + j] + r[j * n + i] } }
        let (l, v) = try LAPACK.symmetricEigen(a, n: n)
        XCTAssertEqual(l, l.sorted())
        for k in 0..<n {
            for i in 0..<n {
                let av = (0..<n).reduce(0.0) { $0 + a[i * n + $1] * v[k * n + $1] }
                assertClose(av, l[k] * v[k * n + i], rtol: 1e-9, atol: 1e-9)
            }
        }
        XCTAssertThrowsError(try LAPACK.symmetricEigen([1, 2, 3], n: 2))
    }

    func testWhiteningDecorrelatesThePatchesItSees() throws {
        let data = try SyntheticShapes(imageSize: .init(width: 12, height: 12), seed: 2).makeDataset(perClass: 6)
        let spec = LayerSpec.conv(24, kernel: 2, padding: 0, bias: false, whiten: true, name: "stem")
        let network = try Network(architecture: Architecture(name: "w", layers: [spec, .flatten, .linear()]),
                                  inputShape: FeatureShape(height: 12, width: 12, channels: 3),
                                  classCount: data.classCount, seed: 1)
        let stem = try XCTUnwrap(network.layers.first as? Conv2D)
        XCTAssertTrue(stem.isWhitening)
        XCTAssertFalse(stem.weight.trainable)
        let normalization = Trainer.channelStatistics(data)
        try Whitening.initialize(stem, from: data, normalization: normalization, epsilon: 1e-6, threads: 2)
        // The outputs' second moments over every patch: ≈ identity for the first 12 filters, and
        // the other 12 are their negatives.
        let batch = Batch()
        let pipeline = BatchPipeline(dataset: data, batchSize: data.count, augmentation: .none, normalization: normalization,
                                     seed: 0, shuffle: false, dropLast: false)
        pipeline.assemble(0..<data.count, transform: .identity, into: batch)
        let out = stem.forward(batch.images, batch: data.count, mode: .inference)
        let rows = data.count * 11 * 11
        for i in 0..<12 {
            for j in 0..<12 {
                var sum = 0.0
                for r in 0..<rows { sum += Double(out.pointer[r * 24 + i]) * Double(out.pointer[r * 24 + j]) }
                assertClose(sum / Double(rows), i == j ? 1 : 0, rtol: 0, atol: 2e-2, "moment \(i),\(j)")
            }
            XCTAssertEqual(out.pointer[i], -out.pointer[12 + i])
        }
    }

    func testWhiteningIsOnlyForAFirstLayerWithTheRightWidth() {
        let input = FeatureShape(height: 8, width: 8, channels: 3)
        for layers in [[LayerSpec.conv(20, kernel: 2, padding: 0, whiten: true), .flatten, .linear()],
                       [LayerSpec.relu, .conv(24, kernel: 2, padding: 0, whiten: true), .flatten, .linear()]] {
            XCTAssertThrowsError(try Network(architecture: Architecture(name: "bad", layers: layers), inputShape: input,
                                             classCount: 3, seed: 1)) { XCTAssertTrue("\($0)".contains("whiten"), "\($0)") }
        }
    }

    func testIdentityFiltersPassChannelsThrough() {
        let g = ConvGeometry(height: 5, width: 6, inChannels: 3, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1,
                             outChannels: 5)
        var random = SeededRandom(seed: 1)
        let conv = Conv2D(name: "c", geometry: g, bias: false, random: &random)
        conv.setIdentityFilters()
        let input = randomValues(2 * g.inputCount, seed: 3)
        let output = outputOf(conv, input, batch: 2)
        for pixel in 0..<(2 * 30) {
            for c in 0..<3 { XCTAssertEqual(output[pixel * 5 + c], input[pixel * 3 + c], accuracy: 1e-6) }
        }
        // The filters past Cin keep their random start.
        XCTAssertNotEqual(output[3], 0)
    }

    func testBiasScalerScalesRateAndDecay() {
        let p = Parameter(name: "shift", shape: [1], value: [2], decays: true)
        p.learningRateScale = 64
        p.weightDecayScale = 1.0 / 64
        p.gradient = [0.5]
        SGD(momentum: 0.9, nesterov: true, weightDecay: 0.1).step([p], learningRate: 0.01)
        // g' = 0.5 + (0.1/64)·2; v = g'; Nesterov update g' + 0.9·v; w = 2 − 0.64·update
        let grad: Float = 0.5 + 0.1 / 64 * 2
        XCTAssertEqual(p.value[0], 2 - 0.64 * (grad + 0.9 * grad), accuracy: 1e-6)
    }

    func testLookaheadMovesToTheSlowAverage() {
        let p = Parameter(name: "w", shape: [2], value: [1, 2], decays: true)
        var lookahead = Lookahead([p])
        p.value = [3, 6]
        lookahead.update([p], step: 5, totalSteps: 10)
        let keep = Float(pow(0.95, 5) * 0.125)
        XCTAssertEqual(p.value[0], 1 + (1 - keep) * 2, accuracy: 1e-6)
        XCTAssertEqual(p.value[1], 2 + (1 - keep) * 4, accuracy: 1e-6)
        XCTAssertEqual(lookahead.values[0], p.value)
        p.value = [0, 0]
        lookahead.finish([p])
        XCTAssertEqual(p.value, lookahead.values[0])
    }

    func testAlternatingFlipShowsBothVersionsEveryTwoEpochs() {
        var flippedInFirstEpoch = 0
        for item in 0..<200 {
            let flips = (0..<4).map { Augmentation.alternatingFlip(item: item, epoch: $0, seed: 7) }
            XCTAssertEqual(flips, [flips[0], !flips[0], flips[0], !flips[0]])
            if flips[0] { flippedInFirstEpoch += 1 }
        }
        XCTAssertTrue((70...130).contains(flippedInFirstEpoch), "\(flippedInFirstEpoch) of 200")
    }

    func testTestTimeViewsAreWeightedAverages() throws {
        for views in TestTimeAugmentation.allCases {
            XCTAssertEqual(views.views.reduce(0) { $0 + $1.weight }, 1, accuracy: 1e-6)
        }
        XCTAssertEqual(TestTimeAugmentation.flipAndTranslate.views.count, 6)
        // A model saved with flip + translate keeps it through the file (and old files read as before).
        let data = try SyntheticShapes(imageSize: .init(width: 8, height: 8), seed: 3).makeDataset(perClass: 2)
        let network = try Network(architecture: .tiny(widths: [4]), inputShape: FeatureShape(height: 8, width: 8, channels: 3),
                                  classCount: data.classCount, seed: 1)
        let model = try ConvNetClassifier(architecture: .tiny(widths: [4]), normalization: .cifar10, classNames: data.classNames,
                                          inputShape: network.inputShape, tensors: network.tensors(),
                                          testTimeAugmentation: .flipAndTranslate)
        XCTAssertEqual(try ConvNetClassifier(archive: model.archive()).testTimeAugmentation, .flipAndTranslate)
        var plain = model
        plain.testTimeAugmentation = .none
        XCTAssertNotEqual(try model.scores(for: data), try plain.scores(for: data))
    }

    func testAirbench94RecipeIsAirbenchsHyperparameters() throws {
        let o = TrainingOptions.airbench94(epochs: 10)
        // 11.5 per 1024 examples / (1 + 1/(1 − 0.85)), per example ×1024 for a mean loss.
        assertClose(o.schedule.peak, 11.5 / (1024 * (1 + 1 / 0.15)) * 1024, rtol: 1e-12, atol: 0)
        assertClose(Double(o.weightDecay) * o.schedule.peak, 0.0153 * 1024 / (1024 * (1 + 1 / 0.15)), rtol: 1e-6, atol: 0)
        XCTAssertEqual(o.batchSize, 1024)
        XCTAssertEqual(o.biasScaler, 64)
        XCTAssertTrue(o.lookahead)
        try o.validate()
        // Other batch sizes keep the per-example step: the mean-loss rate scales with the batch, the decay not.
        let small = TrainingOptions.airbench94(epochs: 10, batchSize: 256)
        assertClose(small.schedule.peak * 4, o.schedule.peak, rtol: 1e-12, atol: 0)
        XCTAssertEqual(small.weightDecay, o.weightDecay, accuracy: 1e-9)
        XCTAssertEqual(TrainingOptions.airbench94BatchSize(trainingImages: 45_000), 1024)
        XCTAssertEqual(TrainingOptions.airbench94BatchSize(trainingImages: 1200), 128)
        XCTAssertEqual(TrainingOptions.airbench94BatchSize(trainingImages: 10), 32)
    }
}

final class InferenceFoldingTests: XCTestCase {
    /// Inference with BatchNorm folded into the convolutions and ReLU and residual additions fused
    /// into their stores equals running every layer as is — on each convolution path
    /// (direct kernel, Winograd, im2col + GEMM).
    func testFoldedInferenceMatchesLayerByLayer() throws {
        let paths = ["direct", "winograd", "winograd4", "gemm"]
        for (architecture, path) in [Architecture.airbench94(widths: [8, 16, 16], stemWidth: 24),
                                     .resnet20(blocksPerStage: 2, widths: [8, 16, 24]),
                                     .tiny(widths: [8, 16])].flatMap({ a in paths.map { (a, $0) } }) {
            let shape = FeatureShape(height: 16, width: 16, channels: 3)
            let network = try Network(architecture: architecture, inputShape: shape, classCount: 10, seed: 3)
            for case let conv as Conv2D in Trainer.allLayers(network.layers) {
                conv.allowsDirectConvolution = path == "direct"
                conv.allowsWinograd = path.hasPrefix("winograd")
                conv.forcesWinograd = path.hasPrefix("winograd")
                conv.winogradTile = path == "winograd4" ? .four : .two
            }
            // Running statistics away from 0/1 and some negative scales, so folding has work to do.
            var random = SeededRandom(seed: 5)
            for case let norm as BatchNorm in Trainer.allLayers(network.layers) {
                for c in 0..<norm.inputShape.channels {
                    norm.runningMean.value[c] = random.nextUnitFloat() - 0.5
                    norm.runningVariance.value[c] = 0.5 + random.nextUnitFloat()
                    norm.shift.value[c] = random.nextUnitFloat() - 0.5
                    if norm.scale.trainable { norm.scale.value[c] = random.nextUnitFloat() * 2 - 0.5 }
                }
            }
            let input = FloatBuffer()
            input.load(randomValues(4 * shape.count, seed: 8))
            let folded = network.forward(input, batch: 4, mode: .inference).array(40)
            func plain(_ layers: [any Layer], _ x: FloatBuffer) -> FloatBuffer {
                var x = x
                for layer in layers {
                    if let residual = layer as? Residual {
                        let b = plain(residual.body, x), s = plain(residual.shortcut, x)
                        let sum = FloatBuffer()
                        sum.load(zip(b.array(4 * residual.outputShape.count), s.array(4 * residual.outputShape.count)).map(+))
                        x = sum
                    } else {
                        x = layer.forward(x, batch: 4, mode: .inference)
                    }
                }
                return x
            }
            assertClose(folded, plain(network.layers, input).array(40), rtol: 1e-4, atol: 1e-4, "\(architecture.name) \(path)")
        }
    }
}
