import Foundation
import XCTest
@testable import PerceptONNX
import PerceptCore

/// Damaged files (cut short at random lengths, random bytes flipped) must load or throw a
/// `PerceptError` naming the file — never trap. A trap here ends the test process.
final class ONNXDamagedFileTests: XCTestCase {
    func testTruncatedTinyModelsThrowAtEveryLength() throws {
        let bytes: Data = try TinyONNXModel.convolutionRelu().serializedBytes()
        // Every proper prefix of the tiny model is missing its graph's tail or its opset.
        for length in 0..<bytes.count {
            try assertLoadsOrThrowsNamingTheFile(bytes.prefix(length), mustThrow: true, "prefix of \(length) bytes")
        }
    }

    func testTinyModelWithFlippedBytesLoadsOrThrows() throws {
        let bytes: Data = try TinyONNXModel.convolutionRelu().serializedBytes()
        var random = SeededRandom(seed: 15)
        var loaded = 0
        for trial in 0..<200 {
            loaded += try assertLoadsOrThrowsNamingTheFile(Self.flipping(bytes, flips: 1 + trial % 4, within: bytes.count,
                                                                         using: &random),
                                                           mustThrow: false, "trial \(trial)") ? 1 : 0
        }
        // Both outcomes happen: flips in weights or names load, flips in tags and lengths throw.
        XCTAssertTrue((1..<200).contains(loaded), "\(loaded) of 200 damaged files loaded")
    }

    func testRealModelCutShortOrFlippedLoadsOrThrows() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: try EfficientNetLite0LoadTests.modelPath()))
        var random = SeededRandom(seed: 1_280)
        for _ in 0..<50 {
            let length = Int(random.next() % UInt64(bytes.count))
            try assertLoadsOrThrowsNamingTheFile(bytes.prefix(length), mustThrow: true, "prefix of \(length) bytes")
        }
        // Half the flips anywhere (mostly weights), half in the first 16 KB, where the nodes are.
        var loaded = 0
        for trial in 0..<40 {
            let region = trial.isMultiple(of: 2) ? bytes.count : 16_384
            loaded += try assertLoadsOrThrowsNamingTheFile(
                Self.flipping(bytes, flips: 1 + trial % 3, within: region, using: &random),
                mustThrow: false, "flip trial \(trial)") ? 1 : 0
        }
        XCTAssertTrue((1..<40).contains(loaded), "\(loaded) of 40 damaged files loaded")
    }

    /// `bytes` with `flips` random bytes among the first `region` replaced by a different value.
    static func flipping(_ bytes: Data, flips: Int, within region: Int, using random: inout SeededRandom) -> Data {
        var damaged = bytes
        for _ in 0..<flips {
            let offset = damaged.startIndex + Int(random.next() % UInt64(region))
            damaged[offset] ^= UInt8(1 + random.next() % 255)
        }
        return damaged
    }

    /// Whether the damaged bytes loaded.
    @discardableResult
    private func assertLoadsOrThrowsNamingTheFile(_ bytes: Data, mustThrow: Bool, _ what: String,
                                                  line: UInt = #line) throws -> Bool {
        let path = "damaged.onnx"
        do {
            let model = try ONNXModel(serializedBytes: bytes, path: path)
            XCTAssertFalse(mustThrow, "\(what): loaded \(model.nodes.count) nodes from a truncated file", line: line)
            return true
        } catch let error as PerceptError {
            XCTAssertEqual(error.path, path, "\(what): \(error)", line: line)
            XCTAssertFalse(error.reason.isEmpty, what, line: line)
            return false
        }
    }
}
