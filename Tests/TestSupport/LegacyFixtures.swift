import Foundation
import PerceptCore

/// Files written by earlier Percept versions (Tests/Fixtures/legacy), kept so old packs,
/// models and checkpoints are proven to keep loading. Each `NAME.expected.json` holds what
/// the file contained, dumped by the version that wrote it.
public enum LegacyFixtures {
    public static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/legacy").path

    /// The path of the fixture `name`.
    public static func path(_ name: String) -> String { folder + "/" + name }

    /// The expected content of `name` (its `.expected.json`), decoded as `type`.
    public static func expected<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let stem = (name as NSString).deletingPathExtension
        let data = try Data(contentsOf: URL(fileURLWithPath: path(stem + ".expected.json")))
        return try JSONDecoder().decode(T.self, from: data)
    }
}

/// A Float array as a fixture's expected content records it.
public struct TensorDump: Codable, Equatable {
    public var shape: [Int]
    public var scalars: [Float]

    public init(_ tensor: Tensor) {
        shape = tensor.shape
        scalars = tensor.scalars
    }
}
