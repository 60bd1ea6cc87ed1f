import Foundation
import PerceptCore

/// One layer of an architecture as data: what the JSON architecture file holds and what the
/// Swift builder produces. Only the fields a type uses are read.
///
/// Types: `conv` (filters, kernel, stride = 1, padding = kernel/2, bias = false, initialization =
/// "uniform" or "identity", whiten = false), `depthwise` (kernel = 3, stride = 1, padding =
/// kernel/2 or [top, left, bottom, right], bias = false, relu6 = false: one filter per channel, ReLU6
/// fused into its store), `batchnorm`
/// (momentum = 0.1, epsilon = 1e-5, trainableScale = true), `relu`, `gelu`, `maxpool` / `avgpool`
/// (kernel, stride = kernel), `globalmaxpool`, `globalavgpool`, `flatten`, `dropout` (rate),
/// `linear` (units, default the number of classes; bias = true), `scale` (factor), and
/// `residual` (body, shortcut = identity when absent).
public struct LayerSpec: Codable, Sendable, Equatable {
    public var type: String
    public var name: String?
    public var filters: Int?
    public var kernel: Int?
    public var stride: Int?
    /// conv: one number; depthwise: one number or [top, left, bottom, right].
    public var padding: LayerPadding?
    public var bias: Bool?
    public var units: Int?
    public var rate: Float?
    public var factor: Float?
    public var momentum: Float?
    public var epsilon: Float?
    public var trainableScale: Bool?
    /// conv: "uniform" (PyTorch's default) or "identity" (airbench: the first min(Cin, Cout)
    /// filters start as the identity, Dirac-delta kernels; the rest uniform).
    public var initialization: String?
    /// conv, first layer only: a fixed whitening filter bank computed from the training images
    /// (eigenvectors of the patch covariance, ± pairs; needs filters = 2·kernel²·channels),
    /// not trained; only its bias learns (see `TrainingOptions.whiteningBiasEpochs`).
    public var whiten: Bool?
    /// depthwise: clip the output to 0…6 (MobileNet's ReLU6) in the layer's own store.
    public var relu6: Bool?
    public var body: [LayerSpec]?
    public var shortcut: [LayerSpec]?

    public init(type: String, name: String? = nil) {
        self.type = type
        self.name = name
    }

    public static func conv(_ filters: Int, kernel: Int = 3, stride: Int = 1, padding: Int? = nil, bias: Bool = false,
                            initialization: String? = nil, whiten: Bool? = nil, name: String? = nil) -> LayerSpec {
        var spec = LayerSpec(type: "conv", name: name)
        spec.initialization = initialization
        spec.whiten = whiten
        spec.filters = filters
        spec.kernel = kernel
        spec.stride = stride
        spec.padding = padding.map { LayerPadding($0) }
        spec.bias = bias
        return spec
    }

    /// A depthwise convolution; padding nil means kernel/2 on every side.
    public static func depthwise(kernel: Int = 3, stride: Int = 1, padding: LayerPadding? = nil, bias: Bool = false,
                                 relu6: Bool? = nil, name: String? = nil) -> LayerSpec {
        var spec = LayerSpec(type: "depthwise", name: name)
        spec.relu6 = relu6
        spec.kernel = kernel
        spec.stride = stride
        spec.padding = padding
        spec.bias = bias
        return spec
    }

    public static func batchNorm(momentum: Float? = nil, epsilon: Float? = nil, trainableScale: Bool? = nil,
                                 name: String? = nil) -> LayerSpec {
        var spec = LayerSpec(type: "batchnorm", name: name)
        spec.momentum = momentum
        spec.epsilon = epsilon
        spec.trainableScale = trainableScale
        return spec
    }

    public static let relu = LayerSpec(type: "relu")
    public static let gelu = LayerSpec(type: "gelu")
    public static let flatten = LayerSpec(type: "flatten")
    public static let globalAveragePool = LayerSpec(type: "globalavgpool")
    public static let globalMaxPool = LayerSpec(type: "globalmaxpool")

    public static func maxPool(_ kernel: Int, stride: Int? = nil) -> LayerSpec {
        var spec = LayerSpec(type: "maxpool")
        spec.kernel = kernel
        spec.stride = stride
        return spec
    }

    public static func averagePool(_ kernel: Int, stride: Int? = nil) -> LayerSpec {
        var spec = LayerSpec(type: "avgpool")
        spec.kernel = kernel
        spec.stride = stride
        return spec
    }

    public static func linear(_ units: Int? = nil, bias: Bool = true, name: String? = nil) -> LayerSpec {
        var spec = LayerSpec(type: "linear", name: name)
        spec.units = units
        spec.bias = bias
        return spec
    }

    public static func dropout(_ rate: Float) -> LayerSpec {
        var spec = LayerSpec(type: "dropout")
        spec.rate = rate
        return spec
    }

    public static func scale(_ factor: Float) -> LayerSpec {
        var spec = LayerSpec(type: "scale")
        spec.factor = factor
        return spec
    }

    public static func residual(_ body: [LayerSpec], shortcut: [LayerSpec] = [], name: String? = nil) -> LayerSpec {
        var spec = LayerSpec(type: "residual", name: name)
        spec.body = body
        spec.shortcut = shortcut
        return spec
    }
}

/// A network as data: a name and its layers in order. Built into a `Network` for an input shape
/// and class count, which checks every shape before any training starts.
public struct Architecture: Codable, Sendable, Equatable {
    public var name: String
    public var layers: [LayerSpec]

    public init(name: String, layers: [LayerSpec]) {
        self.name = name
        self.layers = layers
    }

    /// Reads an architecture file (JSON: `{"name": …, "layers": [{"type": "conv", "filters": 32}, …]}`).
    public static func load(_ path: String) throws -> Architecture {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PerceptError.io(path, "cannot read the architecture file")
        }
        do {
            return try JSONDecoder().decode(Architecture.self, from: data)
        } catch let DecodingError.dataCorrupted(context) {
            throw PerceptError.invalidData("not valid JSON: \(context.debugDescription)", path: path)
        } catch let DecodingError.keyNotFound(key, context) {
            throw PerceptError.invalidData("missing \"\(key.stringValue)\" at \(Architecture.describe(context.codingPath))", path: path)
        } catch let DecodingError.typeMismatch(_, context) {
            throw PerceptError.invalidData("wrong type at \(Architecture.describe(context.codingPath)): \(context.debugDescription)", path: path)
        } catch {
            throw PerceptError.invalidData("cannot read the architecture: \(error)", path: path)
        }
    }

    static func describe(_ path: [CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }

    /// The JSON form (pretty, sorted keys), as written into model files.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// The names `percept train --arch` accepts besides a file.
    public static let builtInNames = ["airbench94", "resnet20", "tiny"]

    /// A built-in architecture by name.
    public static func named(_ name: String) -> Architecture? {
        switch name.lowercased() {
        case "airbench94", "airbench": return .airbench94()
        case "resnet20", "resnet-20": return .resnet20()
        case "tiny": return .tiny()
        default: return nil
        }
    }
}
