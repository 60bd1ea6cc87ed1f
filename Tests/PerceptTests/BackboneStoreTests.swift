import XCTest
@testable import Percept

/// `percept backbone add/list` as a library: a tiny ONNX classifier registered in a temporary
/// store, its checksum checked on use, and the refusals that name the file and what to do.
final class BackboneStoreTests: XCTestCase {
    private var store = BackboneStore(folder: "")

    override func setUpWithError() throws {
        store = BackboneStore(folder: FileManager.default.temporaryDirectory
            .appendingPathComponent("backbones-\(UUID().uuidString)").path)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: store.folder)
    }

    func testAddCopiesTheFileRecordsItsChecksumAndLists() throws {
        let path = try TinyBackbone.write(TinyBackbone.classifier())
        let labels = (path as NSString).deletingLastPathComponent + "/labels.txt"
        try "apple\nbanana\n\ncherry\ndate\n".write(toFile: labels, atomically: true, encoding: .utf8)
        let added = try store.add(path, spec: BackboneSpec(name: "tiny"), labelsPath: labels)
        XCTAssertEqual(added.inputSize, 8, "the input size comes from the graph")
        XCTAssertEqual(added.resizeTo, 9, "256/224 of the input")
        XCTAssertEqual(added.labels, ["apple", "banana", "cherry", "date"])
        XCTAssertEqual(added.sha256, Checksum.sha256(try Data(contentsOf: URL(fileURLWithPath: path))))
        XCTAssertEqual(added.sha256.count, 64)
        XCTAssertEqual(try store.list().map(\.name), ["tiny"])
        XCTAssertEqual(try store.spec(named: "tiny"), added)
        // The copy is what counts: the original may go away.
        try FileManager.default.removeItem(atPath: path)
        XCTAssertEqual(try store.verifiedFile(named: "tiny").spec, added)
    }

    func testAChangedBackboneFileIsRefusedWithTheAdvice() throws {
        let path = try TinyBackbone.write(TinyBackbone.classifier())
        try store.add(path, spec: BackboneSpec(name: "tiny"))
        let stored = "\(store.folder)/tiny/model.onnx"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: stored))
        bytes.append(0)
        try bytes.write(to: URL(fileURLWithPath: stored))
        XCTAssertThrowsError(try store.load(named: "tiny")) { error in
            let perceptError = error as? PerceptError
            XCTAssertEqual(perceptError?.path, stored)
            XCTAssertTrue("\(error)".contains("changed since it was added") && "\(error)".contains("backbone add"), "\(error)")
        }
    }

    func testAGraphWithoutAnImageInputIsRefused() throws {
        let path = try TinyBackbone.write(TinyBackbone.tabular())
        XCTAssertThrowsError(try store.add(path, spec: BackboneSpec(name: "tabular"))) { error in
            XCTAssertEqual((error as? PerceptError)?.path, path)
            XCTAssertTrue("\(error)".contains("not an image batch [N, 3, H, W]"), "\(error)")
        }
        XCTAssertEqual(try store.list().count, 0, "nothing is registered")
    }

    func testBadNamesNodesSizesAndPreprocessingAreRefused() throws {
        let path = try TinyBackbone.write(TinyBackbone.classifier())
        let refusals: [(BackboneSpec, Bool, String)] = [
            (BackboneSpec(name: "../up"), false, "not a backbone name"),
            (BackboneSpec(name: "random-features"), false, "built-in"),
            (BackboneSpec(name: "tiny", featureNode: "nowhere"), false, "'nowhere' is no value"),
            (BackboneSpec(name: "tiny", inputSize: 224), true, "disagrees"),
            (BackboneSpec(name: "tiny", std: [1, 0, 1]), false, "three numbers"),
        ]
        for (spec, inputGiven, phrase) in refusals {
            XCTAssertThrowsError(try store.add(path, spec: spec, inputGiven: inputGiven)) { error in
                XCTAssertTrue("\(error)".contains(phrase), "\(phrase): \(error)")
            }
        }
        XCTAssertNoThrow(try store.add(path, spec: BackboneSpec(name: "tiny", featureNode: "pooled")))
    }

    func testAnEmptyStoreSaysHowToAddABackbone() throws {
        XCTAssertEqual(try store.list().count, 0)
        XCTAssertThrowsError(try store.spec(named: "efficientnet-lite0")) { error in
            XCTAssertTrue("\(error)".contains("none is") && "\(error)".contains("percept backbone add"), "\(error)")
        }
        XCTAssertNil(TransferFamily.suitsByDefault(imageSize: ImageSize(width: 256, height: 256), store: store))
    }

    func testPhotosDefaultToTransferOnlyWithABackboneAndLargeImages() throws {
        try store.add(try TinyBackbone.write(TinyBackbone.classifier()), spec: BackboneSpec(name: "tiny"))
        XCTAssertEqual(TransferFamily.suitsByDefault(imageSize: ImageSize(width: 256, height: 192), store: store), "tiny")
        XCTAssertNil(TransferFamily.suitsByDefault(imageSize: ImageSize(width: 32, height: 32), store: store))
        XCTAssertNil(TransferFamily.suitsByDefault(imageSize: ImageSize(width: 64, height: 64), store: store))
    }

    /// The real EfficientNet-Lite0 through the runtime: 1,280 features, ImageNet probabilities.
    /// Skips while the runtime is not built or ../shared is absent.
    func testEfficientNetLite0GivesFeaturesAndProbabilities() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("shared/models/efficientnet-lite0.onnx").path
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("\(path) is absent") }
        let added = try store.add(path, spec: BackboneSpec(name: "efficientnet-lite0"))
        XCTAssertEqual(added.sha256, "1356e662507893fee7d3912428d709173f63a681e995df1cff9501c35cb33018")
        XCTAssertEqual(added.inputSize, 224)
        XCTAssertEqual(added.resizeTo, 256)
        let backbone = try store.load(named: "efficientnet-lite0", threads: 2)
        XCTAssertEqual(backbone.extractor.featureCount, 1280)
        let images = try SyntheticShapes(imageSize: ImageSize(width: 64, height: 48), seed: 1).makeDataset(perClass: 1)
        let features = try backbone.features(of: images, threads: 2)
        XCTAssertEqual(features.shape, [images.count, 1280])
        XCTAssertTrue(features.scalars.allSatisfy { $0.isFinite && $0 >= 0 }, "pooled ReLU6 features are finite and ≥ 0")
        let network = try PretrainedClassifier(path, threads: 2)
        let probabilities = try network.probabilities(for: images)
        XCTAssertEqual(probabilities.shape, [images.count, 1000])
        for row in 0..<images.count {
            XCTAssertEqual(probabilities.scalars[(row * 1000)..<((row + 1) * 1000)].reduce(0, +), 1, accuracy: 1e-3)
        }
    }
}
