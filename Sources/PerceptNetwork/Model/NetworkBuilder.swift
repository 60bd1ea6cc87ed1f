import PerceptCore

/// Turns layer specs into layers, following the activation shape through them and rejecting,
/// with the layer's position and name, anything that cannot run.
struct NetworkBuilder {
    let classCount: Int
    let seed: UInt64
    private var counter = 0

    init(classCount: Int, seed: UInt64) {
        self.classCount = classCount
        self.seed = seed
    }

    mutating func build(_ specs: [LayerSpec], input: FeatureShape, prefix: String,
                        random: inout SeededRandom) throws -> [any Layer] {
        var shape = input
        var layers: [any Layer] = []
        for (index, spec) in specs.enumerated() {
            let layer = try make(spec, index: index, input: shape, prefix: prefix, random: &random)
            layers.append(layer)
            shape = layer.outputShape
        }
        return layers
    }

    private func fail(_ spec: LayerSpec, _ name: String, _ where_: String, _ reason: String) -> PerceptError {
        PerceptError.invalidData("layer \(where_) (\(spec.type) '\(name)'): \(reason)")
    }

    private mutating func make(_ spec: LayerSpec, index: Int, input: FeatureShape, prefix: String,
                               random: inout SeededRandom) throws -> any Layer {
        counter += 1
        let position = "\(prefix)\(index + 1)"
        let name = spec.name ?? "\(prefix)\(index + 1).\(spec.type)"
        func positive(_ value: Int?, _ field: String, default fallback: Int? = nil) throws -> Int {
            guard let value = value ?? fallback else { throw fail(spec, name, position, "needs \"\(field)\"") }
            guard value >= 1 else { throw fail(spec, name, position, "\"\(field)\" must be ≥ 1, got \(value)") }
            return value
        }
        guard input.count > 0 else { throw fail(spec, name, position, "its input is empty") }
        switch spec.type.lowercased() {
        case "conv", "conv2d":
            let kernel = try positive(spec.kernel, "kernel", default: 3)
            let stride = try positive(spec.stride, "stride", default: 1)
            let filters = try positive(spec.filters, "filters")
            let requested = spec.padding ?? LayerPadding(kernel / 2)
            guard requested.isSymmetric else {
                throw fail(spec, name, position, "takes one padding for every side; [top, left, bottom, right] is for depthwise")
            }
            let padding = requested.top
            guard padding >= 0, padding < kernel else {
                throw fail(spec, name, position, "padding \(padding) must be in 0..<\(kernel) for a \(kernel)×\(kernel) kernel")
            }
            let g = ConvGeometry(height: input.height, width: input.width, inChannels: input.channels,
                                 kernelHeight: kernel, kernelWidth: kernel, stride: stride, padding: padding,
                                 outChannels: filters)
            guard input.height + 2 * padding >= kernel, input.width + 2 * padding >= kernel else {
                throw fail(spec, name, position,
                           "a \(kernel)×\(kernel) kernel with padding \(padding) does not fit its \(input) input")
            }
            let conv = Conv2D(name: name, geometry: g, bias: spec.bias ?? false, random: &random)
            switch spec.initialization?.lowercased() ?? "uniform" {
            case "uniform": break
            case "identity": conv.setIdentityFilters()
            case let other:
                throw fail(spec, name, position, "unknown initialization '\(other)'; use uniform or identity")
            }
            if spec.whiten ?? false {
                guard prefix.isEmpty, index == 0 else {
                    throw fail(spec, name, position, "only the first layer can whiten (it is computed from the input images)")
                }
                guard filters == 2 * kernel * kernel * input.channels, stride == 1 else {
                    throw fail(spec, name, position,
                               "a whitening layer needs stride 1 and 2·kernel²·channels = \(2 * kernel * kernel * input.channels) filters, got \(filters)")
                }
                conv.isWhitening = true
            }
            return conv
        case "depthwise", "depthwiseconv":
            return try depthwise(spec, name: name, position: position, input: input, random: &random)
        case "batchnorm", "bn":
            return BatchNorm(name: name, shape: input, epsilon: spec.epsilon ?? 1e-5, momentum: spec.momentum ?? 0.1,
                             trainableScale: spec.trainableScale ?? true)
        case "relu": return Activation(name: name, function: .relu, shape: input)
        case "gelu": return Activation(name: name, function: .gelu, shape: input)
        case "maxpool", "avgpool":
            let kernel = try positive(spec.kernel, "kernel", default: 2)
            let stride = try positive(spec.stride, "stride", default: kernel)
            guard kernel <= input.height, kernel <= input.width else {
                throw fail(spec, name, position, "a \(kernel)×\(kernel) window does not fit its \(input) input")
            }
            return Pooling(name: name, kind: spec.type.lowercased() == "maxpool" ? .max : .average, shape: input,
                           kernel: kernel, stride: stride)
        case "globalmaxpool": return Pooling(name: name, global: .max, shape: input)
        case "globalavgpool": return Pooling(name: name, global: .average, shape: input)
        case "flatten": return Flatten(name: name, shape: input)
        case "dropout":
            let rate = spec.rate ?? 0.5
            guard rate >= 0, rate < 1 else { throw fail(spec, name, position, "\"rate\" must be in [0, 1), got \(rate)") }
            return Dropout(name: name, rate: rate, shape: input, seed: seed &+ UInt64(counter))
        case "scale":
            guard let factor = spec.factor, factor.isFinite else { throw fail(spec, name, position, "needs a finite \"factor\"") }
            return Scale(name: name, factor: factor, shape: input)
        case "linear", "dense":
            let units = try positive(spec.units, "units", default: classCount)
            return Linear(name: name, inputCount: input.count, units: units, bias: spec.bias ?? true, random: &random)
        case "residual":
            guard let bodySpecs = spec.body, !bodySpecs.isEmpty else { throw fail(spec, name, position, "needs a non-empty \"body\"") }
            let body = try build(bodySpecs, input: input, prefix: "\(name).body.", random: &random)
            let shortcut = try build(spec.shortcut ?? [], input: input, prefix: "\(name).shortcut.", random: &random)
            let bodyShape = body.last?.outputShape ?? input, shortcutShape = shortcut.last?.outputShape ?? input
            guard bodyShape == shortcutShape else {
                throw fail(spec, name, position,
                           "its body gives \(bodyShape) but its shortcut gives \(shortcutShape); add a projection shortcut (1×1 conv with the body's stride and filters)")
            }
            return Residual(name: name, body: body, shortcut: shortcut)
        default:
            throw fail(spec, name, position,
                       "unknown layer type; use conv, depthwise, batchnorm, relu, gelu, maxpool, avgpool, globalmaxpool, globalavgpool, flatten, dropout, scale, linear or residual")
        }
    }

    /// A depthwise convolution: padding kernel/2 unless given, each side in 0..<kernel.
    private func depthwise(_ spec: LayerSpec, name: String, position: String, input: FeatureShape,
                           random: inout SeededRandom) throws -> any Layer {
        let kernel = spec.kernel ?? 3, stride = spec.stride ?? 1
        guard kernel >= 1, stride >= 1 else {
            throw fail(spec, name, position, "\"kernel\" and \"stride\" must be ≥ 1, got \(kernel) and \(stride)")
        }
        let padding = spec.padding ?? LayerPadding(kernel / 2)
        guard padding.sides.allSatisfy({ (0..<kernel).contains($0) }) else {
            throw fail(spec, name, position, "padding \(padding.sides) must be in 0..<\(kernel) on every side for a \(kernel)×\(kernel) kernel")
        }
        let g = DepthwiseGeometry(height: input.height, width: input.width, channels: input.channels, kernel: kernel,
                                  stride: stride, padding: (padding.top, padding.left, padding.bottom, padding.right))
        guard padding.top + input.height + padding.bottom >= kernel, padding.left + input.width + padding.right >= kernel else {
            throw fail(spec, name, position, "a \(kernel)×\(kernel) kernel with padding \(padding.sides) does not fit its \(input) input")
        }
        return DepthwiseConv2D(name: name, geometry: g, bias: spec.bias ?? false, clipsToSix: spec.relu6 ?? false,
                               random: &random)
    }
}
