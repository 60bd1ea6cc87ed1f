import Foundation
import PerceptCore
import PerceptONNX

/// Percept's cache folder: `$PERCEPT_CACHE`, else `$XDG_CACHE_HOME/percept`, else `~/.cache/percept`.
public enum PerceptCache {
    public static var root: String {
        let environment = ProcessInfo.processInfo.environment
        if let root = environment["PERCEPT_CACHE"], !root.isEmpty { return root }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return "\(xdg)/percept" }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/percept").path
    }
}

/// Registered backbones (`percept backbone add/list`): one folder per name under
/// `<cache>/backbones/`, holding `model.onnx` (a copy, so moving or editing the original changes
/// nothing) and `backbone.json` (its `BackboneSpec`, with the SHA-256 taken when it was added and
/// checked on every use).
public struct BackboneStore: Sendable {
    public var folder: String

    public init(folder: String = "\(PerceptCache.root)/backbones") {
        self.folder = folder
    }

    static let modelFile = "model.onnx", specFile = "backbone.json"

    /// Copies `path` into the store as `spec.name`, after checking it loads and takes images.
    /// The input size comes from the graph; `spec.inputSize`, when it differs, is refused.
    ///
    /// - Parameter labelsPath: a text file of class names, one a line, for the graph's own outputs.
    @discardableResult
    public func add(_ path: String, spec: BackboneSpec, inputGiven: Bool = false, labelsPath: String? = nil) throws -> BackboneSpec {
        guard spec.name.range(of: "^[A-Za-z0-9][A-Za-z0-9._-]*$", options: .regularExpression) != nil else {
            throw PerceptError.invalidArgument("'\(spec.name)' is not a backbone name: use letters, digits, '.', '_' and '-'")
        }
        guard spec.name != "random-features" else {
            throw PerceptError.invalidArgument("'random-features' is Percept's built-in baseline; choose another --name")
        }
        let bytes: Data
        do { bytes = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw PerceptError.io(path, "cannot read the ONNX model: \(error.localizedDescription)")
        }
        let model = try ONNXModel(serializedBytes: bytes, path: path)
        try ImageGraph.check(model)
        var spec = spec
        if let size = ImageGraph.inputSize(model) {
            guard size.height == size.width else {
                throw PerceptError.unsupported(path, "its input is \(size.width)x\(size.height); backbones take square images")
            }
            if inputGiven, spec.inputSize != size.height {
                throw PerceptError.invalidArgument("--input \(spec.inputSize) disagrees with \(path), which takes "
                    + "\(size.width)x\(size.height) images; leave --input out")
            }
            if !inputGiven {
                let ratio = Double(spec.resizeTo) / Double(spec.inputSize)
                spec.resizeTo = Int((Double(size.height) * ratio).rounded())
            }
            spec.inputSize = size.height
        }
        if let node = spec.featureNode {
            let values = Set(model.nodes.flatMap(\.outputs))
            guard values.contains(node) else {
                throw PerceptError.invalidArgument("--feature-node '\(node)' is no value of \(path)'s graph; "
                    + "see `percept backbone inspect \(path)`")
            }
        } else if model.classifierInput == nil {
            throw PerceptError.unsupported(path, "the graph does not end in a Gemm or MatMul classifier; name its "
                + "feature vector with --feature-node NAME (see `percept backbone inspect`)")
        }
        if let labelsPath { spec.labels = try Self.readLabels(labelsPath) }
        spec.source = .onnx
        spec.sha256 = Checksum.sha256(bytes)
        try spec.validate()
        let target = "\(folder)/\(spec.name)"
        do { try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true) } catch {
            throw PerceptError.io(target, "cannot create the backbone folder: \(error.localizedDescription)")
        }
        try AtomicFile.write(bytes, to: "\(target)/\(Self.modelFile)")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(spec), to: "\(target)/\(Self.specFile)")
        return spec
    }

    /// Every registered backbone, by name.
    public func list() throws -> [BackboneSpec] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return try names.sorted().filter { FileManager.default.fileExists(atPath: "\(folder)/\($0)/\(Self.specFile)") }
            .map { try spec(named: $0) }
    }

    /// The recorded spec of `name`; the error lists what is registered.
    public func spec(named name: String) throws -> BackboneSpec {
        let path = "\(folder)/\(name)/\(Self.specFile)"
        guard FileManager.default.fileExists(atPath: path) else {
            let known = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
            throw PerceptError.invalidArgument("no backbone named '\(name)' is registered in \(folder) ("
                + (known.isEmpty ? "none is" : "registered: \(known.joined(separator: ", "))")
                + "); add one with `percept backbone add FILE.onnx --name \(name)`, or give --backbone FILE.onnx")
        }
        do {
            return try JSONDecoder().decode(BackboneSpec.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw PerceptError.corrupt(path, "not a backbone description (\(error)); add the backbone again with "
                + "`percept backbone add FILE.onnx --name \(name)`")
        }
    }

    /// The registered backbone `name`, its file checked against the recorded SHA-256.
    public func load(named name: String, threads: Int? = nil) throws -> Backbone {
        let (spec, bytes, path) = try verifiedFile(named: name)
        return try Backbone.onnx(bytes, spec: spec, origin: path, threads: threads)
    }

    /// The spec and ONNX bytes of `name`, the bytes checked against the recorded SHA-256.
    public func verifiedFile(named name: String) throws -> (spec: BackboneSpec, bytes: Data, path: String) {
        let spec = try spec(named: name)
        let path = "\(folder)/\(name)/\(Self.modelFile)"
        let bytes: Data
        do { bytes = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw PerceptError.io(path, "the backbone '\(name)' has lost its ONNX file; add it again with "
                + "`percept backbone add FILE.onnx --name \(name)`")
        }
        guard Checksum.sha256(bytes) == spec.sha256 else {
            throw PerceptError.corrupt(path, "the backbone '\(name)' changed since it was added (its SHA-256 no longer "
                + "matches \(spec.sha256.prefix(16))…); add it again with `percept backbone add FILE.onnx --name \(name)`")
        }
        return (spec, bytes, path)
    }

    /// `--backbone VALUE`: the built-in `random-features`, an `.onnx` file (ImageNet's
    /// preprocessing assumed), or a registered name.
    public func resolve(_ value: String, featureNode: String? = nil, threads: Int? = nil, seed: UInt64 = 0) throws -> Backbone {
        if value == "random-features" { return Backbone.randomFeatures(seed: seed) }
        if value.hasSuffix(".onnx") || value.contains("/") {
            let bytes: Data
            do { bytes = try Data(contentsOf: URL(fileURLWithPath: value)) } catch {
                throw PerceptError.io(value, "cannot read the backbone: \(error.localizedDescription)")
            }
            let model = try ONNXModel(serializedBytes: bytes, path: value)
            try ImageGraph.check(model)
            let size = ImageGraph.inputSize(model)?.height ?? 224
            let name = ((value as NSString).lastPathComponent as NSString).deletingPathExtension
            let spec = BackboneSpec(name: name, inputSize: size, featureNode: featureNode)
            return try Backbone.onnx(bytes, spec: spec, origin: value, threads: threads)
        }
        var backbone = try load(named: value, threads: threads)
        if let featureNode, featureNode != backbone.spec.featureNode {
            var spec = backbone.spec
            spec.featureNode = featureNode
            backbone = try Backbone.onnx(backbone.onnxBytes ?? Data(), spec: spec, origin: "\(folder)/\(value)/\(Self.modelFile)",
                                         threads: threads)
        }
        return backbone
    }

    /// Class names, one a line (blank lines skipped).
    static func readLabels(_ path: String) throws -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PerceptError.io(path, "cannot read the labels (a UTF-8 text file, one class name a line)")
        }
        let labels = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !labels.isEmpty else { throw PerceptError.invalidData("no class names in the labels file", path: path) }
        return labels
    }
}
