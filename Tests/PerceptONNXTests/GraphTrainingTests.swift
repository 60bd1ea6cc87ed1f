import Foundation
import XCTest
@testable import PerceptONNX
import PerceptCore

/// The backward passes of the runtime's steps (gradient checks along random directions) and
/// fine-tuning a small backbone's last blocks end to end.
final class GraphTrainingTests: XCTestCase {
    /// A trainer for `model` from its input to `output`, compiled for training.
    func trainer(_ model: ONNXModel, output: String) throws -> GraphTrainer {
        var compiler = GraphCompiler(model: model)
        compiler.forTraining = true
        let input = model.inputs[0]
        compiler.start = (input.name, input.shape.dropFirst().map { $0 ?? 1 })
        return try GraphTrainer(plan: try compiler.compile(output: output), path: model.path)
    }

    /// Checks ∂L/∂input and ∂L/∂(every weight and bias) of L = Σ output·r against central differences
    /// along random directions, with inputs stored NHWC as the trainer takes them.
    func assertGradientsMatch(_ model: ONNXModel, output: String, batch: Int = 2, file: StaticString = #filePath,
                              line: UInt = #line) throws {
        let t = try trainer(model, output: output)
        var random = SeededRandom(seed: 9)
        let input = (0..<(batch * t.plan.valueCounts[t.plan.inputValue])).map { _ in random.nextUnitFloat() * 2 - 1 }
        let outputCount = batch * t.plan.valueCounts[t.plan.outputValue]
        let r = (0..<outputCount).map { _ in random.nextUnitFloat() * 2 - 1 }
        func loss(_ x: [Float]) -> Double {
            zip(t.forward(x, batch: batch), r).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        _ = t.forward(input, batch: batch)
        let dInput = t.backward(r, batch: batch)
        let epsilon: Float = 1e-2
        func check(_ name: String, analytic: Double, plus: Double, minus: Double) {
            let numeric = (plus - minus) / Double(2 * epsilon)
            XCTAssertEqual(analytic, numeric, accuracy: 2e-2 * max(1, abs(numeric)), "\(name): analytic \(analytic), numeric \(numeric)",
                           file: file, line: line)
        }
        let v = input.map { _ in random.nextUnitFloat() * 2 - 1 }
        check("input", analytic: zip(dInput, v).reduce(0.0) { $0 + Double($1.0) * Double($1.1) },
              plus: loss(zip(input, v).map { $0 + epsilon * $1 }), minus: loss(zip(input, v).map { $0 - epsilon * $1 }))
        // Parameters: each convolution's gradients, then its arrays perturbed in place.
        for conv in t.steps.compactMap({ $0 as? ConvolutionStep }) {
            let name = conv.nodeName
            _ = t.forward(input, batch: batch)
            _ = t.backward(r, batch: batch)
            let gradient = conv.weightGradient, original = conv.weight
            let direction = original.map { _ in random.nextUnitFloat() * 2 - 1 }
            conv.weight = zip(original, direction).map { $0 + epsilon * $1 }
            let plus = loss(input)
            conv.weight = zip(original, direction).map { $0 - epsilon * $1 }
            let minus = loss(input)
            conv.weight = original
            check("\(name).weight", analytic: zip(gradient, direction).reduce(0.0) { $0 + Double($1.0) * Double($1.1) },
                  plus: plus, minus: minus)
            if let bias = conv.epilogue.bias {
                let biasGradient = conv.biasGradient
                let d = bias.map { _ in random.nextUnitFloat() * 2 - 1 }
                conv.epilogue.bias = zip(bias, d).map { $0 + epsilon * $1 }
                let plus = loss(input)
                conv.epilogue.bias = zip(bias, d).map { $0 - epsilon * $1 }
                let minus = loss(input)
                conv.epilogue.bias = bias
                check("\(name).bias", analytic: zip(biasGradient, d).reduce(0.0) { $0 + Double($1.0) * Double($1.1) },
                      plus: plus, minus: minus)
            }
        }
    }

    /// An inverted residual block (expand, depthwise, project, skip), a head convolution, pooling.
    func mobileBlock() throws -> (ONNXModel, String) {
        var g = GraphSketch(channels: 4, height: 5, width: 6)
        let expanded = g.add("Clip", [g.conv(g.inputName, 4, 12, kernel: 1), g.scalar(0), g.scalar(6)])
        let filtered = g.add("Clip", [g.conv(expanded, 12, 12, kernel: 3, pads: [1, 1, 1, 1], group: 12), g.scalar(0), g.scalar(6)])
        let block = g.add("Add", [g.conv(filtered, 12, 4, kernel: 1), g.inputName])
        let head = g.add("Relu", [g.conv(block, 4, 8, kernel: 1)])
        let features = g.add("Flatten", [g.add("GlobalAveragePool", [head])])
        return (try g.model(output: features), features)
    }

    func testPointwiseDepthwiseResidualAndPoolingGradients() throws {
        let (model, features) = try mobileBlock()
        try assertGradientsMatch(model, output: features)
    }

    func testDenseStridedConvolutionActivationsGateAndMatrixGradients() throws {
        var g = GraphSketch(channels: 3, height: 7, width: 7)
        let conv = g.conv(g.inputName, 3, 6, kernel: 3, stride: 2, pads: [1, 1, 1, 1])
        let swished = g.add("HardSwish", [conv])
        let silu = g.add("Mul", [swished, g.add("Sigmoid", [swished])])
        let gate = g.add("HardSigmoid", [g.conv(g.add("GlobalAveragePool", [silu]), 6, 6, kernel: 1)])
        let excited = g.add("Sub", [g.add("Mul", [silu, gate]), g.weight([1, 6, 1, 1])])
        let flat = g.add("Flatten", [excited])   // an image flattened in ONNX's order: a layout step
        let out = g.add("Relu", [g.add("Gemm", [flat, g.weight([96, 5], scale: 0.2), g.weight([5])])])
        try assertGradientsMatch(try g.model(output: out), output: out)
    }

    func testFineTuningLearnsAndWritesItsWeightsBackIntoTheGraph() throws {
        // A classifier whose last block carries an unfolded BatchNorm, written back as the identity.
        var g = GraphSketch(channels: 3, height: 6, width: 6)
        let stem = g.conv(g.inputName, 3, 8, kernel: 3, pads: [1, 1, 1, 1])   // no activation: a block ends here
        let projected = g.conv(g.add("Clip", [g.conv(stem, 8, 8, kernel: 3, pads: [1, 1, 1, 1], group: 8), g.scalar(0), g.scalar(6)]),
                               8, 8, kernel: 1, bias: false)
        let normalised = g.add("BatchNormalization", [projected, g.weight([8], range: 0.5...1.5), g.weight([8]), g.weight([8]),
                                                      g.weight([8], range: 0.5...2)])
        let block = g.add("Add", [normalised, stem])
        let features = g.add("Flatten", [g.add("GlobalAveragePool", [g.add("Relu", [g.conv(block, 8, 16, kernel: 1)])])])
        let logits = g.add("Gemm", [features, g.weight([3, 16]), g.weight([3])], [TinyONNXModel.intAttribute("transB", 1)])
        let file = try TinyONNXModel.write(g.proto(output: logits))
        let loaded = try ONNXModel.load(file)
        let tuner = try ONNXFineTuner(model: loaded, serializedBytes: try Data(contentsOf: URL(fileURLWithPath: file)),
                                      features: features, blocks: 2)
        XCTAssertEqual(tuner.cutDimensions, [8, 6, 6])
        XCTAssertThrowsError(try ONNXFineTuner(model: loaded, serializedBytes: Data(), features: features, blocks: 4))
        XCTAssertEqual(try ONNXFineTuner(model: loaded, serializedBytes: Data(), features: features, blocks: 3).cutName, g.inputName)
        XCTAssertEqual(try ONNXFineTuner(model: loaded, serializedBytes: Data(), features: features, blocks: 1).cutName, block)

        // Labels that depend on the images: class = the brightest colour channel.
        var random = SeededRandom(seed: 4)
        let count = 48
        var images: [Float] = [], labels: [Int] = []
        for _ in 0..<count {
            let label = Int(random.next() % 3)
            labels.append(label)
            for _ in 0..<36 { for channel in 0..<3 { images.append(random.nextUnitFloat() + (channel == label ? 1 : 0)) } }
        }
        let cut = try tuner.frozenSession(threads: 2).run(images: images, batch: count)
        var options = FineTuningOptions()
        options.epochs = 30
        options.learningRate = 0.05
        options.batchSize = 16
        var history: [FineTuningEpoch] = []
        let head = try tuner.train(views: [cut], labels: labels,
                                   head: ((0..<48).map { _ in random.nextUnitFloat() * 0.2 - 0.1 }, [0, 0, 0]),
                                   options: options) { history.append($0) }
        XCTAssertEqual(history.count, 30)
        XCTAssertLessThan(history.last!.loss, history.first!.loss * 0.5, "\(history.map(\.loss))")
        XCTAssertGreaterThan(history.last!.accuracy, 0.9)
        XCTAssertEqual(head.weights.count, 48)

        // The tuned graph computes the trained features, read back through an ordinary session.
        let tuned = try ONNXModel(serializedBytes: try tuner.tunedModel(), path: "tuned.onnx")
        let session = try ONNXSession(model: tuned, output: features)
        let expected = tuner.features(cutActivations: cut, batch: count)
        let actual = try session.run(images: images, batch: count)
        let scale = max(1, expected.map(abs).max() ?? 0)
        XCTAssertLessThanOrEqual(zip(actual, expected).map { abs($0 - $1) }.max() ?? 1, 1e-4 * scale)
        let original = try ONNXSession(model: loaded, output: features).run(images: images, batch: count)
        XCTAssertGreaterThan(zip(actual, original).map { abs($0 - $1) }.max() ?? 0, 1e-3, "the weights did change")
    }
}
