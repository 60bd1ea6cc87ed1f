import Foundation
import XCTest
import PerceptImage

/// `percept backbone add/list`, `train --model transfer`, the photo default and `predict` with an
/// .onnx network, run as a user would, with the cache in a temporary folder ($PERCEPT_CACHE).
final class TransferCLITests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("percept-transfer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        setenv("PERCEPT_CACHE", "\(folder)/cache", 1)
    }

    override func tearDown() {
        unsetenv("PERCEPT_CACHE")
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Two labels told apart by colour, `count` PNG images each, `width`×`height`.
    private func photos(width: Int, height: Int, count: Int = 12, name: String = "photos") throws -> String {
        let root = "\(folder)/\(name)"
        for (label, fill) in [("red", (UInt8(200), UInt8(30), UInt8(40))), ("blue", (UInt8(30), UInt8(50), UInt8(210)))] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(label)", withIntermediateDirectories: true)
            for index in 0..<count {
                var image = Image(width: width, height: height, fill: fill)
                image[index % width, index % height] = (255, 255, 255)
                try Data(try image.pngData()).write(to: URL(fileURLWithPath: "\(root)/\(label)/\(index).png"))
            }
        }
        return root
    }

    func testTrainPredictAndEvaluateATransferModel() throws {
        let data = try photos(width: 40, height: 30)
        let model = "\(folder)/transfer.percept"
        let train = try runPercept(["train", data, "--model", "transfer", "--backbone", "random-features", "-o", model, "--json"])
        XCTAssertEqual(train.status, 0, train.stderr)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(train.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(summary["kind"] as? String, "transfer")
        XCTAssertEqual(summary["inputSize"] as? String, "40x30", "images under 256 px keep their size")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(folder)/cache/features"), "features are cached under $PERCEPT_CACHE")
        let predict = try runPercept(["predict", model, "\(data)/red/0.png", "--json"])
        XCTAssertEqual(predict.status, 0, predict.stderr)
        XCTAssertTrue(predict.stdout.contains("\"label\" : \"red\""), predict.stdout)
        let evaluate = try runPercept(["evaluate", model, data, "--split", "all"])
        XCTAssertEqual(evaluate.status, 0, evaluate.stderr)
    }

    func testUnknownBackboneAndNonONNXFilesAreNamed() throws {
        let data = try photos(width: 16, height: 16, count: 4)
        let train = try runPercept(["train", data, "--model", "transfer", "--backbone", "nothing", "-o", "\(folder)/m.percept"])
        XCTAssertEqual(train.status, 1)
        XCTAssertTrue(train.stderr.contains("no backbone named 'nothing'") && train.stderr.contains("backbone add"), train.stderr)
        let fake = "\(folder)/fake.onnx"
        try Data("not a network".utf8).write(to: URL(fileURLWithPath: fake))
        let add = try runPercept(["backbone", "add", fake, "--name", "fake"])
        XCTAssertEqual(add.status, 2)
        XCTAssertTrue(add.stderr.contains(fake) && add.stderr.contains("not an ONNX model"), add.stderr)
        let list = try runPercept(["backbone", "list"])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("no backbones in \(folder)/cache/backbones"), list.stdout)
    }

    /// The shared EfficientNet-Lite0 registered, listed, chosen by default for photos, and refused once changed.
    func testRegisteredBackboneIsListedChosenForPhotosAndVerified() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let network = root.appendingPathComponent("shared/models/efficientnet-lite0.onnx").path
        guard FileManager.default.fileExists(atPath: network) else { throw XCTSkip("\(network) is absent") }
        let labels = "\(folder)/labels.txt"
        try (0..<1000).map { "class \($0)" }.joined(separator: "\n").write(toFile: labels, atomically: true, encoding: .utf8)
        let add = try runPercept(["backbone", "add", network, "--name", "lite0", "--labels", labels])
        XCTAssertEqual(add.status, 0, add.stderr)
        XCTAssertTrue(add.stdout.contains("added lite0: 224x224 input, shorter-crop from 256"), add.stdout)
        let list = try runPercept(["backbone", "list"])
        XCTAssertTrue(list.stdout.contains("lite0") && list.stdout.contains("shorter-crop 256") && list.stdout.contains("1356e6625078"),
                      list.stdout)
        let json = try runPercept(["backbone", "list", "--json"])
        let specs = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(specs.first?["sha256"] as? String, "1356e662507893fee7d3912428d709173f63a681e995df1cff9501c35cb33018")

        // Photos larger than 64 px without --model: transfer, said on stderr.
        let large = try photos(width: 120, height: 90, count: 6, name: "large")
        let train = try runPercept(["train", large, "-o", "\(folder)/auto.percept"])
        XCTAssertTrue(train.stderr.contains("using transfer learning with backbone lite0; --model to choose"), train.stderr)
        XCTAssertEqual(train.status, 0, train.stderr)
        // Small images keep the classic default.
        let small = try photos(width: 32, height: 32, count: 6, name: "small")
        let classic = try runPercept(["train", small, "-o", "\(folder)/knn.percept", "--json"])
        XCTAssertEqual(classic.status, 0, classic.stderr)
        XCTAssertFalse(classic.stderr.contains("transfer"), classic.stderr)
        XCTAssertTrue(classic.stdout.contains("\"kind\" : \"knn\""), classic.stdout)

        // The pretrained network itself, by file or by name, its classes named by the labels.
        for network in [network, "lite0"] {
            let predict = try runPercept(["predict", network, "\(large)/red/0.png", "--labels", labels, "--top", "2", "--json"])
            XCTAssertEqual(predict.status, 0, predict.stderr)
            let answers = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(predict.stdout.utf8)) as? [[String: Any]])
            let top = try XCTUnwrap(answers.first?["top"] as? [[String: Any]])
            XCTAssertEqual(top.count, 2)
            XCTAssertTrue((top.first?["label"] as? String)?.hasPrefix("class ") ?? false, predict.stdout)
        }
        let mislabelled = try runPercept(["predict", network, "\(large)/red/0.png", "--labels", "\(large)/red/0.png"])
        XCTAssertEqual(mislabelled.status, 2, mislabelled.stderr)

        // A registered file that changed is refused by name, with what to do.
        let stored = "\(folder)/cache/backbones/lite0/model.onnx"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: stored))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([0]))
        try handle.close()
        let predict = try runPercept(["predict", "lite0", "\(large)/red/0.png"])
        XCTAssertEqual(predict.status, 2)
        XCTAssertTrue(predict.stderr.contains(stored) && predict.stderr.contains("changed since it was added")
                      && predict.stderr.contains("percept backbone add"), predict.stderr)
    }
}
