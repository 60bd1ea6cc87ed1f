import Foundation
import XCTest
import Percept
import TestSupport

/// `percept export` for every family that exports: the file loads back through `ONNXModel.load`
/// with the contract's input, output and metadata, and gives what `percept predict` gives — the
/// same top-1 and probabilities within 1e-4 — in onnxruntime and in Percept's own ONNX runtime.
/// Families that cannot export say so.
final class ONNXExportTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    // MARK: models

    private func colours(perClass: Int, seed: UInt64) throws -> Dataset {
        try SyntheticColours.dataset(perClass: perClass, seed: seed)
    }

    private func shapes(size: Int, perClass: Int) throws -> Dataset {
        try SyntheticShapes(imageSize: ImageSize(width: size, height: size), seed: 5).makeDataset(perClass: perClass, threads: 1)
    }

    private func trained(_ family: any ModelFamily.Type, _ options: [String: String], on train: Dataset) throws -> any ArchivableModel {
        let job = TrainingJob(train: train, validation: nil, seed: 3, threads: 1)
        return try family.train(try family.settings(options), job).model
    }

    /// A network of `architecture` with random weights and BatchNorm statistics (so folding or
    /// mis-ordering any of them would show).
    private func randomNetwork(_ architecture: Architecture, on data: Dataset, views: TestTimeAugmentation) throws -> ConvNetClassifier {
        let shape = FeatureShape(height: data.height, width: data.width, channels: data.channels)
        let network = try Network(architecture: architecture, inputShape: shape, classCount: data.classNames.count, seed: 11)
        var random = SeededRandom(seed: 12)
        var tensors = network.tensors()
        for (name, tensor) in tensors {
            var values = tensor.scalars
            for index in values.indices {
                let u = random.nextUnitFloat()
                if name.hasSuffix(".runningVariance") { values[index] = 0.5 + u }
                else if name.hasSuffix(".runningMean") { values[index] = u - 0.5 }
                else { values[index] += (u - 0.5) * 0.2 }
            }
            tensors[name] = Tensor(shape: tensor.shape, scalars: values)
        }
        return try ConvNetClassifier(architecture: architecture, normalization: .cifar10, classNames: data.classNames,
                                     inputShape: shape, tensors: tensors, testTimeAugmentation: views)
    }

    /// A JSON architecture using every other layer: depthwise with asymmetric padding and ReLU6,
    /// a residual with GELU, average pooling, dropout, a flatten of a 3×3 map into a linear layer,
    /// BatchNorm on a vector, a scale.
    private let mixedArchitecture = """
        {"name": "mixed", "layers": [
          {"type": "conv", "filters": 6, "kernel": 3, "bias": true}, {"type": "relu"},
          {"type": "depthwise", "kernel": 3, "stride": 2, "padding": [0, 0, 1, 1], "relu6": true, "bias": true},
          {"type": "residual", "body": [{"type": "conv", "filters": 6}, {"type": "batchnorm"}, {"type": "gelu"}]},
          {"type": "avgpool", "kernel": 2}, {"type": "dropout", "rate": 0.2},
          {"type": "flatten"}, {"type": "linear", "units": 12}, {"type": "batchnorm"}, {"type": "relu"},
          {"type": "scale", "factor": 0.5}, {"type": "linear"}
        ]}
        """

    // MARK: checks

    /// Saves `model`, exports it, loads the ONNX file back and checks the contract; returns the
    /// ONNX path and the probabilities `percept predict` prints for `images`.
    private func export(_ model: any ArchivableModel, family: String, images: Dataset, name: String,
                        file: StaticString = #filePath, line: UInt = #line) throws -> (path: String, expected: [Float]) {
        let modelPath = "\(folder)/\(name).percept", onnxPath = "\(folder)/\(name).onnx"
        try ModelFile.write(model, to: modelPath, resizeMode: "center-crop", metadata: ["family": family])
        let summary = try ONNXExport.export(modelAt: modelPath, to: onnxPath)
        let onnx = try ONNXModel.load(onnxPath)
        let (h, w, c) = (images.height, images.width, model.classNames.count)
        XCTAssertEqual(onnx.inputs.map(\.description), ["images: FLOAT [N, 3, \(h), \(w)]"], name, file: file, line: line)
        XCTAssertEqual(onnx.outputs.map(\.description), ["probabilities: FLOAT [N, \(c)]"], name, file: file, line: line)
        XCTAssertEqual(onnx.opsetVersion, 17, file: file, line: line)
        XCTAssertEqual(onnx.producer, "percept \(PerceptVersion.current)", file: file, line: line)
        let labels = try JSONSerialization.jsonObject(with: Data((onnx.metadata["percept.labels"] ?? "").utf8)) as? [String]
        XCTAssertEqual(labels, model.classNames, file: file, line: line)
        XCTAssertEqual(onnx.metadata["percept.input_size"], "\(w)x\(h)", file: file, line: line)
        XCTAssertEqual(onnx.metadata["percept.resize"], "center-crop", file: file, line: line)
        XCTAssertEqual(Set(summary.operators), onnx.operatorTypes, file: file, line: line)
        let saved = try SavedModel.load(modelPath)
        let expected = try saved.model.classRankingWithProbabilities(images, k: 1).probabilities.scalars
        return (onnxPath, expected)
    }

    /// The same top-1 (ties to the lower class, as Percept ranks) and probabilities within 1e-4.
    private func assertAgree(_ actual: [Float], _ expected: [Float], classes: Int, _ name: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, name, file: file, line: line)
        guard actual.count == expected.count else { return }
        let actualRanks = rankClasses(byScores: Tensor(shape: [actual.count / classes, classes], scalars: actual), k: 1)
        let expectedRanks = rankClasses(byScores: Tensor(shape: [actual.count / classes, classes], scalars: expected), k: 1)
        XCTAssertEqual(actualRanks, expectedRanks, "\(name): top-1", file: file, line: line)
        let largest = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(largest, 1e-4, "\(name): probabilities", file: file, line: line)
    }

    /// The dataset's pixels as Float32 N×3×H×W (the export's input) or N×H×W×3.
    private func pixels(_ images: Dataset, channelsFirst: Bool) -> [Float] {
        let (n, h, w, c) = (images.count, images.height, images.width, images.channels)
        var result = [Float](repeating: 0, count: n * h * w * c)
        images.withPixelBytes { bytes in
            for item in 0..<n {
                for y in 0..<h {
                    for x in 0..<w {
                        for channel in 0..<c {
                            let to = channelsFirst ? ((item * c + channel) * h + y) * w + x : ((item * h + y) * w + x) * c + channel
                            result[to] = Float(bytes[((item * h + y) * w + x) * c + channel])
                        }
                    }
                }
            }
        }
        return result
    }

    /// Every exportable family's models: (name, family, model, images to compare on).
    private func exportableModels() throws -> [(String, String, any ArchivableModel, Dataset)] {
        let small = try colours(perClass: 12, seed: 1), test = try colours(perClass: 4, seed: 2)
        let photos = try shapes(size: 16, perClass: 2)
        return [
            ("softmax", "softmax", try trained(SoftmaxFamily.self, ["epochs": "3"], on: small), test),
            ("svm-channel", "svm", try trained(SupportVectorMachineFamily.self,
                                               ["epochs": "3", "preprocessing": "channel-standardization"], on: small), test),
            ("mlp", "mlp", try trained(TwoLayerNetFamily.self, ["epochs": "3", "hidden": "16"], on: small), test),
            ("cnn-tiny-flip", "cnn", try trained(ConvNetFamily.self, ["epochs": "2", "batch": "16", "tta": "flip"], on: small), test),
            ("airbench94", "cnn", try randomNetwork(.airbench94(widths: [8, 8, 8], stemWidth: 24), on: photos,
                                                    views: .flipAndTranslate), photos),
            ("resnet20", "cnn", try randomNetwork(.resnet20(blocksPerStage: 1, widths: [4, 8, 8]), on: test, views: .none), test),
            ("mixed-json", "cnn", try randomNetwork(JSONDecoder().decode(Architecture.self, from: Data(mixedArchitecture.utf8)),
                                                    on: photos, views: .none), photos),
        ]
    }

    // MARK: tests

    func testEveryExportableFamilyAgreesWithPredictInOnnxruntime() throws {
        for (name, family, model, images) in try exportableModels() {
            let (path, expected) = try export(model, family: family, images: images, name: name)
            let output = try ONNXRuntimeOracle.run(model: path, images: pixels(images, channelsFirst: true),
                                                   shape: [images.count, 3, images.height, images.width])
            assertAgree(output, expected, classes: model.classNames.count, name)
        }
    }

    func testEveryExportableFamilyAgreesWithPredictInPerceptsONNXRuntime() throws {
        for (name, family, model, images) in try exportableModels() {
            let (path, expected) = try export(model, family: family, images: images, name: name)
            let session = try ONNXSession(model: ONNXModel.load(path), threads: 1)
            let output = try session.run(images: pixels(images, channelsFirst: false), batch: images.count)
            assertAgree(output, expected, classes: model.classNames.count, name)
        }
    }

    func testTheExportFollowsTheRequestedTestTimeViews() throws {
        let photos = try shapes(size: 16, perClass: 1)
        let model = try randomNetwork(.tiny(widths: [4, 8]), on: photos, views: .flip)
        let modelPath = "\(folder)/flip.percept"
        try ModelFile.write(model, to: modelPath, resizeMode: "squash", metadata: ["family": "cnn"])
        try ONNXExport.export(modelAt: modelPath, to: "\(folder)/flip.onnx")
        let flip = try ONNXModel.load("\(folder)/flip.onnx")
        XCTAssertEqual(flip.nodes.filter { $0.operatorType == "MatMul" }.count, 1, "the mirror view's column selection")
        XCTAssertEqual(flip.nodes.filter { $0.operatorType == "Softmax" }.count, 2)
        try ONNXExport.export(modelAt: modelPath, to: "\(folder)/single.onnx",
                              options: ONNXExportOptions(testTimeAugmentation: TestTimeAugmentation.none))
        let single = try ONNXModel.load("\(folder)/single.onnx")
        XCTAssertEqual(single.nodes.filter { $0.operatorType == "Softmax" }.count, 1)
        XCTAssertFalse(single.operatorTypes.contains("MatMul"))
        XCTAssertEqual(Set(single.initializerNames), Set(flip.initializerNames.filter { !$0.hasPrefix("view") }),
                       "the views share the network's weights")
    }

    func testTransferModelsExportBackboneAndHeadAsOneGraph() throws {
        let backbone = try TinyBackbone.write(TinyBackbone.trainable())
        let train = try shapes(size: 32, perClass: 4), test = try shapes(size: 32, perClass: 1)
        for head in ["softmax", "mlp"] {
            let model = try XCTUnwrap(try trained(TransferFamily.self, ["backbone": backbone, "feature-cache": "none", "head": head,
                                                                         "hidden": "8", "epochs": "20"], on: train) as? TransferModel)
            let modelPath = "\(folder)/transfer-\(head).percept", onnxPath = "\(folder)/transfer-\(head).onnx"
            try ModelFile.write(model, to: modelPath, resizeMode: "center-crop", metadata: ["family": "transfer"])
            try ONNXExport.export(modelAt: modelPath, to: onnxPath)
            let onnx = try ONNXModel.load(onnxPath)
            // The graph takes the backbone's crop; the metadata says how to cut it from a photo.
            XCTAssertEqual(onnx.inputs.map(\.description), ["images: FLOAT [N, 3, 16, 16]"], head)
            XCTAssertEqual(onnx.metadata["percept.input_size"], "16x16")
            XCTAssertEqual(onnx.metadata["percept.resize"], "shorter-crop")
            XCTAssertEqual(onnx.nodes.filter { $0.operatorType == "Gemm" }.count, head == "softmax" ? 1 : 2,
                           "the backbone's own classifier is dropped")
            // Fed the crops Percept's preprocessing makes, the graph gives predict's probabilities.
            let crops = (0..<test.count).map { model.backbone.spec.fitted(test.image(at: $0)) }
            let nhwc = crops.flatMap { $0.pixels.map(Float.init) }
            var nchw = [Float](repeating: 0, count: nhwc.count)
            for item in 0..<test.count { for p in 0..<256 { for channel in 0..<3 {
                nchw[(item * 3 + channel) * 256 + p] = nhwc[(item * 256 + p) * 3 + channel]
            } } }
            let expected = try model.probabilities(for: test).scalars
            let ours = try ONNXSession(model: onnx, threads: 1).run(images: nhwc, batch: test.count)
            assertAgree(ours, expected, classes: model.classNames.count, "transfer-\(head) in Percept")
            let theirs = try ONNXRuntimeOracle.run(model: onnxPath, images: nchw, shape: [test.count, 3, 16, 16])
            assertAgree(theirs, expected, classes: model.classNames.count, "transfer-\(head) in onnxruntime")
        }
    }

    func testFamiliesThatCannotExportSaySoNamingTheFile() throws {
        let train = try colours(perClass: 4, seed: 1)
        let hog = try shapes(size: 16, perClass: 3)
        let cases: [(String, any ArchivableModel, [String])] = [
            ("knn", try trained(KNearestNeighborsFamily.self, [:], on: train),
             ["knn cannot be exported to ONNX: it keeps its training images rather than weights",
              "train svm, softmax, mlp, cnn or transfer"]),
            ("ncm", try trained(NearestClassMeanFamily.self, [:], on: train), ["ncm cannot be exported to ONNX"]),
            ("mlp", try trained(TwoLayerNetFamily.self, ["epochs": "1", "hidden": "4", "features": "hog-color"], on: hog),
             ["export supports models on pixel features; this one uses hog-color"]),
        ]
        for (family, model, phrases) in cases {
            let modelPath = "\(folder)/\(family).percept", onnxPath = "\(folder)/\(family).onnx"
            try ModelFile.write(model, to: modelPath, resizeMode: "squash", metadata: ["family": family])
            XCTAssertThrowsError(try ONNXExport.export(modelAt: modelPath, to: onnxPath), family) { error in
                XCTAssertEqual((error as? PerceptError)?.path, modelPath, "\(error)")
                for phrase in phrases { XCTAssertTrue("\(error)".contains(phrase), "'\(phrase)' missing from: \(error)") }
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: onnxPath), "nothing written for \(family)")
        }
        XCTAssertEqual(ONNXExport.exportableFamilyNames, ["svm", "softmax", "mlp", "cnn", "transfer"])
    }
}
