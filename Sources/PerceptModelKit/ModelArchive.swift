import Foundation
import PerceptCore

/// Everything a fitted model needs to come back to life, in a form the model file can store:
/// the family (`kind`), the class names, the input it expects, its settings as JSON and its
/// learned numbers as named arrays.
///
/// Every family converts itself to and from an archive (`ArchivableModel`); `ModelFile` turns
/// an archive into bytes on disk and back. A family never touches the byte layout, so adding
/// one is writing two small functions.
public struct ModelArchive: Sendable, Equatable {
    /// The model family, e.g. "knn", "linear", "cnn" (`ArchivableModel.kind`).
    public var kind: String
    /// The version of this family's archive layout (bumped when its tensors or settings change).
    public var kindVersion: Int
    public var classNames: [String]
    /// The input images as [H, W, C].
    public var inputShape: [Int]
    /// How images of another size are brought to `inputShape` at prediction ("squash" or
    /// "center-crop"); set by whoever imports the data (the CLI), nil when unknown.
    public var resizeMode: String?
    /// The family's hyper-parameters and small state, as JSON (see `setSettings`/`settings(as:)`).
    public var settings: Data
    /// Named Float32 arrays: weights, means, running statistics.
    public var tensors: [String: Tensor]
    /// Named byte arrays: data that is naturally bytes (k-NN's training pixels) or Int32 labels.
    public var blobs: [String: [UInt8]]
    /// Free-form facts about how the model was made (dataset, validation accuracy, date),
    /// shown by `percept report`; never needed to predict.
    public var metadata: [String: String]

    public init(kind: String, kindVersion: Int = 1, classNames: [String], inputShape: [Int],
                resizeMode: String? = nil, settings: Data = Data("{}".utf8),
                tensors: [String: Tensor] = [:], blobs: [String: [UInt8]] = [:], metadata: [String: String] = [:]) {
        self.kind = kind
        self.kindVersion = kindVersion
        self.classNames = classNames
        self.inputShape = inputShape
        self.resizeMode = resizeMode
        self.settings = settings
        self.tensors = tensors
        self.blobs = blobs
        self.metadata = metadata
    }

    /// Stores `value` as the settings JSON.
    public mutating func setSettings<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        settings = try encoder.encode(value)
    }

    /// Decodes the settings JSON as `T`; a mismatch is reported as invalid model data.
    public func settings<T: Decodable>(as type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: settings)
        } catch {
            throw PerceptError.invalidData("the \(kind) model's settings do not match this Percept version: \(error)")
        }
    }

    /// The tensor `name`, checked to have `shape` when one is given.
    public func tensor(_ name: String, shape: [Int]? = nil) throws -> Tensor {
        guard let tensor = tensors[name] else {
            throw PerceptError.invalidData("the \(kind) model has no '\(name)' array")
        }
        if let shape, tensor.shape != shape {
            throw PerceptError.invalidData("the \(kind) model's '\(name)' array is \(tensor.shape), expected \(shape)")
        }
        return tensor
    }

    /// The blob `name`.
    public func blob(_ name: String) throws -> [UInt8] {
        guard let blob = blobs[name] else { throw PerceptError.invalidData("the \(kind) model has no '\(name)' data") }
        return blob
    }

    /// Stores Int32 values (labels) as a little-endian blob.
    public mutating func setInt32s(_ values: [Int32], as name: String) {
        var bytes = [UInt8]()
        bytes.reserveCapacity(values.count * 4)
        for value in values { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        blobs[name] = bytes
    }

    /// Reads a blob written by `setInt32s`.
    public func int32s(_ name: String) throws -> [Int32] {
        let bytes = try blob(name)
        guard bytes.count % 4 == 0 else { throw PerceptError.invalidData("the \(kind) model's '\(name)' data is not a whole number of Int32s") }
        return stride(from: 0, to: bytes.count, by: 4).map { i in
            Int32(littleEndian: Int32(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8
                                      | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24))
        }
    }

    /// Throws unless this archive is of `kind` and a version this build can read.
    public func require(kind expected: String, newestVersion: Int) throws {
        guard kind == expected else {
            throw PerceptError.invalidData("this is a \(kind) model, not a \(expected) model")
        }
        guard kindVersion <= newestVersion else {
            throw PerceptError.unsupported(
                nil, "the \(kind) model is layout version \(kindVersion); this Percept reads up to \(newestVersion) — update Percept")
        }
    }
}

/// A model family that can be saved to and loaded from a model file.
public protocol ArchivableModel: Classifier {
    /// The family's name in model files ("knn", "linear", …); unique across Percept.
    static var kind: String { get }
    /// The model's whole state. Throws if it has not been fitted.
    func archive() throws -> ModelArchive
    /// Rebuilds the model exactly: `scores` of the loaded model equal those of the saved one.
    init(archive: ModelArchive) throws
}
