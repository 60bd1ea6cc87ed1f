import Foundation
import XCTest
@testable import PerceptONNX
import PerceptCore

/// Percept's runtime against onnxruntime's outputs, stored beside each fixture model by
/// `Benchmarks/peers/make_onnx_fixtures.py`: four narrow torchvision networks with random weights
/// and one graph per operator form; and the pretrained EfficientNet-Lite0 against its oracle.
final class ONNXRuntimeFixtureTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()  // PerceptONNXTests
        .deletingLastPathComponent().appendingPathComponent("Fixtures/onnx")

    /// A tensor stored as a serialised `TensorProto` (ONNX's backend-test layout).
    static func tensor(_ url: URL) throws -> Tensor {
        let proto = try Onnx_TensorProto(serializedBytes: try Data(contentsOf: url))
        return try XCTUnwrap(try ONNXTensor(proto, role: url.lastPathComponent, path: url.path).floatTensor)
    }

    /// The largest difference between `actual` and `expected`, relative to the larger of 1 and the output's scale.
    static func relativeError(_ actual: [Float], _ expected: [Float]) -> Float {
        let scale = max(1, expected.map(abs).max() ?? 0)
        return (zip(actual, expected).map { abs($0 - $1) }.max() ?? 0) / scale
    }

    /// Runs the fixture in `folder` through the session (when its input is an image) and through the
    /// reference evaluator (when `reference`), comparing each with onnxruntime's output.
    func check(_ folder: URL, reference: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        let name = folder.lastPathComponent
        let model = try ONNXModel.load(folder.appendingPathComponent("model.onnx").path)
        let input = try Self.tensor(folder.appendingPathComponent("input_0.pb"))
        let expected = try Self.tensor(folder.appendingPathComponent("output_0.pb"))
        let outputName = model.outputs[0].name
        if reference {
            let result = try ReferenceEvaluator(model: model).run([model.inputs[0].name: input], outputs: [outputName])[outputName]!
            XCTAssertEqual(result.shape, expected.shape, "\(name): reference shape", file: file, line: line)
            XCTAssertLessThanOrEqual(Self.relativeError(result.scalars, expected.scalars), 1e-4, "\(name): reference",
                                     file: file, line: line)
        }
        guard input.rank == 4 else { return }
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let session = try ONNXSession(model: model, output: outputName, threads: 2)
        var actual = try session.run(images: Layout.channelsLast(input.scalars, batch: n, channels: c, height: h, width: w), batch: n)
        let d = session.outputDimensions
        if d.count == 3 { actual = Layout.channelsFirst(actual, batch: n, channels: d[0], height: d[1], width: d[2]) }
        XCTAssertEqual([n] + d, expected.shape, "\(name): session shape", file: file, line: line)
        let error = Self.relativeError(actual, expected.scalars)
        XCTAssertLessThanOrEqual(error, 1e-4, "\(name): session differs from onnxruntime by \(error)", file: file, line: line)
        if expected.rank == 2, expected.shape[1] > 1 {
            let k = expected.shape[1]
            for item in 0..<n {
                let row = item * k..<(item + 1) * k
                XCTAssertEqual(actual[row].indices.max { actual[$0] < actual[$1] },
                               expected.scalars[row].indices.max { expected.scalars[$0] < expected.scalars[$1] },
                               "\(name): top-1 of item \(item)", file: file, line: line)
            }
        }
    }

    func testEveryOperatorFixtureMatchesOnnxruntimeBothWays() throws {
        let ops = Self.fixtures.appendingPathComponent("ops")
        let cases = try FileManager.default.contentsOfDirectory(atPath: ops.path).filter { !$0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThanOrEqual(cases.count, 40, "the operator fixtures are missing")
        for name in cases { try check(ops.appendingPathComponent(name), reference: true) }
    }

    func testResNetMobileNetAndEfficientNetFixturesMatchOnnxruntime() throws {
        for name in ["resnet_tiny", "mobilenet_v2_tiny", "mobilenet_v3_small_tiny", "efficientnet_b0_tiny"] {
            try check(Self.fixtures.appendingPathComponent(name), reference: false)
        }
    }

    func testFeatureVectorOfEachNetworkMatchesOnnxruntime() throws {
        for name in ["resnet_tiny", "mobilenet_v2_tiny", "mobilenet_v3_small_tiny", "efficientnet_b0_tiny"] {
            let folder = Self.fixtures.appendingPathComponent(name)
            let model = try ONNXModel.load(folder.appendingPathComponent("model.onnx").path)
            let features = try XCTUnwrap(model.classifierInput, name)
            let input = try Self.tensor(folder.appendingPathComponent("input_0.pb"))
            let expected = try Self.tensor(folder.appendingPathComponent("penultimate.pb"))
            let session = try ONNXSession(model: model, output: features.name)
            XCTAssertEqual(session.outputCount, features.width, name)
            let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
            let actual = try session.run(images: Layout.channelsLast(input.scalars, batch: n, channels: c, height: h, width: w), batch: n)
            XCTAssertLessThanOrEqual(Self.relativeError(actual, expected.scalars), 1e-4, name)
        }
    }

    func testModelsThatCannotRunFailAtLoadNamingTheProblem() throws {
        let path = Self.fixtures.appendingPathComponent("bad/input_rank2.onnx").path
        let model = try ONNXModel.load(path)
        XCTAssertThrowsError(try ONNXSession(model: model)) { error in
            XCTAssertEqual((error as? PerceptError)?.path, path)
            XCTAssertTrue("\(error)".contains("not an image"), "\(error)")
        }
    }

    // MARK: the pretrained backbone

    /// The oracle's images: CIFAR-10 binary records enlarged 7× by pixel replication, (p − 127) / 128, NHWC.
    static func oracleImages(_ records: Range<Int>) throws -> [Float] {
        let root = fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("shared/datasets/cifar10-binary-sample/data_batch_1.bin").path
        guard let data = FileManager.default.contents(atPath: path) else { throw XCTSkip("\(path) is absent") }
        var images: [Float] = []
        images.reserveCapacity(records.count * 224 * 224 * 3)
        for record in records {
            let base = record * 3073 + 1
            for y in 0..<224 { for x in 0..<224 { for channel in 0..<3 {
                let p = Float(data[base + channel * 1024 + (y / 7) * 32 + x / 7])
                images.append((p - 127) / 128)
            } } }
        }
        return images
    }

    struct Oracle: Decodable {
        var model_sha256: String
        var top1: [Int]
        var logits_first_8: [[Float]]
        var features_first_4: [[Float]]
        var feature_name: String
    }

    func testEfficientNetLite0AgreesWithOnnxruntimesOracle() throws {
        let path = try EfficientNetLite0LoadTests.modelPath()
        let oracle = try JSONDecoder().decode(Oracle.self, from: Data(contentsOf: Self.fixtures
            .appendingPathComponent("efficientnet-lite0-oracle.json")))
        let model = try ONNXModel.load(path)
        let count = 8   // the 1,000-image top-1 check runs in Benchmarks/backbone.sh (release build)
        let images = try Self.oracleImages(0..<count)
        let logits = try ONNXSession(model: model).run(images: images, batch: count)
        XCTAssertLessThanOrEqual(Self.relativeError(logits, oracle.logits_first_8.flatMap { $0 }), 1e-4)
        for item in 0..<count {
            let row = logits[(item * 1000)..<((item + 1) * 1000)]
            XCTAssertEqual(row.indices.max { row[$0] < row[$1] }.map { $0 - item * 1000 }, oracle.top1[item], "image \(item)")
        }
        XCTAssertEqual(model.classifierInput?.name, oracle.feature_name)
        let features = try ONNXSession(model: model, output: oracle.feature_name).run(images: Array(images.prefix(4 * 224 * 224 * 3)),
                                                                                     batch: 4)
        XCTAssertLessThanOrEqual(Self.relativeError(features, oracle.features_first_4.flatMap { $0 }), 1e-4)
    }
}
