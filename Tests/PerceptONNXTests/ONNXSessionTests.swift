import Foundation
import XCTest
@testable import PerceptONNX
import PerceptCore

/// The compiled runtime against the reference evaluator (plain NCHW loops, no fusion) on graphs
/// that exercise each fusion, layout change and fallback; and the errors a graph or a caller can cause.
final class ONNXSessionTests: XCTestCase {
    /// Runs `output` of `model` both ways on `batch` random images and compares; returns the session.
    @discardableResult
    func assertMatchesReference(_ model: ONNXModel, output: String, batch: Int = 3, threads: Int = 2,
                                microBatch: Int? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> ONNXSession {
        let session = try ONNXSession(model: model, output: output, threads: threads)
        session.microBatch = microBatch
        let (c, h, w) = (session.imageChannels, session.imageHeight, session.imageWidth)
        var random = SeededRandom(seed: 5)
        let nchw = (0..<(batch * c * h * w)).map { _ in random.nextUnitFloat() * 4 - 2 }
        let expected = try ReferenceEvaluator(model: model)
            .run([model.inputs[0].name: Tensor(shape: [batch, c, h, w], scalars: nchw)], outputs: [output])[output]!
        var actual = try session.run(images: Layout.channelsLast(nchw, batch: batch, channels: c, height: h, width: w), batch: batch)
        let d = session.outputDimensions
        if d.count == 3 { actual = Layout.channelsFirst(actual, batch: batch, channels: d[0], height: d[1], width: d[2]) }
        XCTAssertEqual(expected.shape, [batch] + d, file: file, line: line)
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        let scale = max(1, expected.scalars.map(abs).max() ?? 0)
        let error = zip(actual, expected.scalars).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(error, 1e-4 * scale, "largest difference \(error) at output scale \(scale)", file: file, line: line)
        XCTAssertFalse(actual.contains { $0.isNaN }, file: file, line: line)
        return session
    }

    func stepCount(_ session: ONNXSession) -> Int { session.plan.steps.count }

    func testConvolutionBatchNormResidualAndReluBecomeOneStep() throws {
        var g = GraphSketch(channels: 4, height: 6, width: 5)
        let conv = g.conv(g.inputName, 4, 4, kernel: 3, pads: [1, 1, 1, 1])
        let norm = g.add("BatchNormalization", [conv, g.weight([4], range: 0.5...1.5), g.weight([4]), g.weight([4]),
                                                g.weight([4], range: 0.5...2)],
                         [GraphSketch.floatAttribute("epsilon", 1e-3)])
        let sum = g.add("Add", [norm, g.inputName])
        let out = g.add("Relu", [sum])
        let session = try assertMatchesReference(try g.model(output: out), output: out)
        XCTAssertEqual(stepCount(session), 1, "BatchNorm folded, Add and Relu fused into the convolution's store")
    }

    func testPaddedDepthwiseStrideTwoWithReluSixThenPointwise() throws {
        var g = GraphSketch(channels: 8, height: 9, width: 7)
        let padded = g.add("Pad", [g.inputName, g.integers([0, 0, 0, 0, 0, 0, 1, 1])])
        let depthwise = g.conv(padded, 8, 8, kernel: 3, stride: 2, group: 8)
        let clipped = g.add("Clip", [depthwise, g.scalar(0), g.scalar(6)])
        let out = g.conv(clipped, 8, 5, kernel: 1, bias: false)
        let session = try assertMatchesReference(try g.model(output: out), output: out)
        XCTAssertEqual(stepCount(session), 2, "Pad merged into the depthwise convolution, ReLU6 fused")
    }

    func testStemPadThenDenseStrideTwoConvolution() throws {
        var g = GraphSketch(channels: 3, height: 10, width: 11)
        let padded = g.add("Pad", [g.inputName, g.integers([0, 0, 0, 0, 0, 0, 1, 1])])
        let out = g.add("Relu", [g.conv(padded, 3, 6, kernel: 3, stride: 2)])
        let session = try assertMatchesReference(try g.model(output: out), output: out)
        XCTAssertEqual(stepCount(session), 1)
    }

    func testSiLUAndSqueezeExciteThenClassifier() throws {
        var g = GraphSketch(channels: 6, height: 5, width: 5)
        let expanded = g.conv(g.inputName, 6, 12, kernel: 1)
        let silu = g.add("Mul", [expanded, g.add("Sigmoid", [expanded])])
        let pooled = g.add("GlobalAveragePool", [silu])
        let squeezed = g.add("Relu", [g.conv(pooled, 12, 3, kernel: 1)])
        let gate = g.add("HardSigmoid", [g.conv(squeezed, 3, 12, kernel: 1)])
        let excited = g.add("Mul", [silu, gate])
        let swished = g.add("HardSwish", [excited])
        let features = g.add("ReduceMean", [swished], [TinyONNXModel.intsAttribute("axes", [2, 3]),
                                                       TinyONNXModel.intAttribute("keepdims", 0)])
        let logits = g.add("Gemm", [features, g.weight([4, 12]), g.weight([4])], [TinyONNXModel.intAttribute("transB", 1)])
        let model = try g.model(output: logits)
        let session = try assertMatchesReference(model, output: logits)
        XCTAssertEqual(session.outputCount, 4)
        // The SiLU's Sigmoid and Mul became the first convolution's activation.
        XCTAssertFalse(session.plan.steps.contains { ($0 as? ActivationStep)?.function == .sigmoid })
        // An intermediate value: the features only, the classifier left out.
        let featureSession = try assertMatchesReference(model, output: features)
        XCTAssertEqual(featureSession.outputCount, 12)
        XCTAssertFalse(featureSession.plan.steps.contains { $0 is MatrixStep })
    }

    func testPoolingWindowsPaddingAndCeilMode() throws {
        var g = GraphSketch(channels: 3, height: 9, width: 8)
        let maxPooled = g.add("MaxPool", [g.inputName], [TinyONNXModel.intsAttribute("kernel_shape", [3, 3]),
                                                          TinyONNXModel.intsAttribute("strides", [2, 2]),
                                                          TinyONNXModel.intsAttribute("pads", [1, 1, 1, 1])])
        let averaged = g.add("AveragePool", [maxPooled], [TinyONNXModel.intsAttribute("kernel_shape", [3, 3]),
                                                          TinyONNXModel.intsAttribute("pads", [1, 1, 1, 1]),
                                                          TinyONNXModel.intAttribute("count_include_pad", 0)])
        let counted = g.add("AveragePool", [averaged], [TinyONNXModel.intsAttribute("kernel_shape", [2, 2]),
                                                        TinyONNXModel.intsAttribute("strides", [2, 2]),
                                                        TinyONNXModel.intsAttribute("pads", [0, 0, 1, 1]),
                                                        TinyONNXModel.intAttribute("ceil_mode", 1),
                                                        TinyONNXModel.intAttribute("count_include_pad", 1)])
        try assertMatchesReference(try g.model(output: counted), output: counted)
    }

    func testFlattenAndReshapeReadOnnxOrderNotStorageOrder() throws {
        var g = GraphSketch(channels: 3, height: 4, width: 5)
        let conv = g.conv(g.inputName, 3, 4, kernel: 3, pads: [1, 1, 1, 1])
        let flat = g.add("Flatten", [conv])
        // Back to an image of other dimensions, convolved: both conversions of layout.
        let image = g.add("Reshape", [flat, g.integers([-1, 5, 4, 4])])
        let again = g.conv(image, 5, 2, kernel: 1)
        let logits = g.add("Gemm", [g.add("Flatten", [again]), g.weight([32, 3])])
        try assertMatchesReference(try g.model(output: logits), output: logits)
        let squeezed = g.add("Squeeze", [g.add("GlobalAveragePool", [again]), g.integers([2, 3])])
        let unsqueezed = g.add("Unsqueeze", [squeezed, g.integers([2])])
        let product = g.add("MatMul", [g.add("Flatten", [unsqueezed]), g.weight([2, 3])])
        try assertMatchesReference(try g.model(output: product), output: product)
    }

    func testConcatenatedChannelsAndElementwiseOperators() throws {
        var g = GraphSketch(channels: 4, height: 5, width: 6)
        let left = g.conv(g.inputName, 4, 3, kernel: 1)
        let right = g.conv(g.inputName, 4, 5, kernel: 3, pads: [1, 1, 1, 1])
        let joined = g.add("Concat", [left, right], [TinyONNXModel.intAttribute("axis", 1)])
        let shifted = g.add("Sub", [joined, g.weight([1, 8, 1, 1])])
        let scaled = g.add("Div", [shifted, g.scalar(2)])
        let both = g.add("Add", [scaled, g.weight([8, 5, 6])])
        let out = g.add("Sigmoid", [both])
        try assertMatchesReference(try g.model(output: out), output: out)
    }

    func testGroupedConvolutionAndSoftmaxRunByTheReferenceFallback() throws {
        var g = GraphSketch(channels: 4, height: 5, width: 5)
        let grouped = g.conv(g.inputName, 4, 6, kernel: 3, pads: [1, 1, 1, 1], group: 2)
        let pooled = g.add("Flatten", [g.add("GlobalAveragePool", [grouped])])
        let probabilities = g.add("Softmax", [g.add("Gemm", [pooled, g.weight([6, 3])])])
        let session = try assertMatchesReference(try g.model(output: probabilities), output: probabilities)
        XCTAssertTrue(session.plan.steps.contains { $0 is FallbackStep })
    }

    func testConstantSubgraphsAreFoldedAtLoad() throws {
        var g = GraphSketch(channels: 2, height: 3, width: 3)
        let factor = g.add("Mul", [g.weight([1, 2, 1, 1]), g.scalar(3)])   // depends on constants only
        let shift = g.add("Add", [factor, g.weight([1, 2, 1, 1])])
        let out = g.add("Add", [g.inputName, shift])
        let session = try assertMatchesReference(try g.model(output: out), output: out)
        XCTAssertEqual(stepCount(session), 1, "the two constant nodes were computed at load")
    }

    func testMicroBatchesAndThreadCountsGiveIdenticalResults() throws {
        var g = GraphSketch(channels: 3, height: 6, width: 6)
        let out = g.add("Relu", [g.conv(g.conv(g.inputName, 3, 4, kernel: 3, pads: [1, 1, 1, 1]), 4, 2, kernel: 1)])
        let model = try g.model(output: out)
        var random = SeededRandom(seed: 2)
        let images = (0..<(7 * 108)).map { _ in random.nextUnitFloat() }
        let outputs = try [(1, nil), (2, 1), (2, 3), (3, 2)].map { (threads: Int, micro: Int?) -> [Float] in
            let session = try ONNXSession(model: model, output: out, threads: threads)
            session.microBatch = micro
            return try session.run(images: images, batch: 7)
        }
        for other in outputs.dropFirst() { XCTAssertEqual(other, outputs[0]) }
    }

    // MARK: errors

    func testAGraphWhoseInputIsNotAnImageIsRefusedNamingTheFile() throws {
        var model = try GraphSketch(channels: 2, height: 2, width: 2).model(output: "images")
        model.inputs = [ONNXValueInfo(name: "images", elementType: "FLOAT", shape: [nil, 8])]
        XCTAssertThrowsError(try ONNXSession(model: model)) { error in
            let e = error as? PerceptError
            XCTAssertEqual(e?.kind, .unsupported)
            XCTAssertEqual(e?.path, "sketch.onnx")
            XCTAssertTrue("\(error)".contains("not an image"), "\(error)")
        }
    }

    func testAnUnknownOutputAndAWrongImageCountAreInvalidArguments() throws {
        var g = GraphSketch(channels: 2, height: 3, width: 3)
        let out = g.add("Relu", [g.inputName])
        let model = try g.model(output: out)
        XCTAssertThrowsError(try ONNXSession(model: model, output: "no-such-value")) { error in
            XCTAssertEqual((error as? PerceptError)?.kind, .invalidArgument)
            XCTAssertTrue("\(error)".contains("no-such-value"))
        }
        let session = try ONNXSession(model: model, output: out)
        XCTAssertThrowsError(try session.run(images: [1, 2, 3], batch: 1)) { error in
            XCTAssertEqual((error as? PerceptError)?.kind, .invalidArgument)
        }
        XCTAssertEqual(try session.run(images: [], batch: 0), [])
    }

    func testAnOperatorFormNothingCoversFailsAtLoadNamingTheNode() throws {
        var g = GraphSketch(channels: 2, height: 4, width: 4)
        let out = g.add("Pad", [g.inputName, g.integers([0, 0, 1, 1, 0, 0, 1, 1])], [
            { var a = Onnx_AttributeProto(); a.name = "mode"; a.type = .string; a.s = Data("reflect".utf8); return a }()])
        XCTAssertThrowsError(try ONNXSession(model: try g.model(output: out), output: out)) { error in
            XCTAssertEqual((error as? PerceptError)?.kind, .unsupported)
            XCTAssertTrue("\(error)".contains("Pad") && "\(error)".contains("reflect"), "\(error)")
            XCTAssertTrue("\(error)".contains("supported operators"), "\(error)")
        }
    }
}
