import PerceptCore
import PerceptNetwork

/// Percept's engine layers as ONNX nodes: the export side of the importer's operator table.
///
/// Percept runs NHWC and stores convolution weights K_H×K_W×Cin×Cout; ONNX runs NCHW with weights
/// Cout×Cin×K_H×K_W, so weights are reordered here and activations stay NCHW in the graph. Percept's
/// `Flatten` of an H×W×C map lists features in HWC order, ONNX's `Flatten` in CHW order; rather than
/// a `Transpose` (an operator the importer does not run), the layer reading the flattened features
/// (a linear layer, a BatchNorm) gets its weights permuted to CHW order. Both give the same numbers.
///
/// One writer adds each parameter once: writing the layers again on another input (a test-time
/// view of the image) reuses the same initialisers.
public struct ONNXNetworkWriter {
    /// A value on its way through the network: N×C×H×W for `shape`, or N×D rows after a flatten.
    struct Value {
        var name: String
        var shape: FeatureShape
        var isFlat: Bool
        /// For rows flattened from a map larger than 1×1: `hwcIndex[i]` is the position in Percept's
        /// HWC order of the graph's feature i (CHW order). Nil when both orders agree.
        var hwcIndex: [Int]?
    }

    /// Parameter name → initialiser name, so every array is written once.
    private var initializers: [String: String] = [:]

    public init() {}

    /// Appends `layers`, reading `input` (N×C×H×W, already normalised as the network expects, of
    /// `inputShape`), and returns the name of the last layer's output: N×classes logits.
    ///
    /// - Throws: `.unsupported` naming the layer when it has no ONNX form here.
    public mutating func append(_ layers: [any Layer], input: String, inputShape: FeatureShape,
                                to graph: inout ONNXGraphBuilder) throws -> String {
        var value = Value(name: input, shape: inputShape, isFlat: false, hwcIndex: nil)
        value = try appendSequence(layers, from: value, to: &graph)
        if !value.isFlat { value = try flattened(value, name: "logits.flatten", to: &graph) }
        guard value.hwcIndex == nil else {
            throw PerceptError.unsupported(nil, "the network ends in a flattened map without a linear layer; "
                + "Percept exports networks whose last layer gives the class scores")
        }
        return value.name
    }

    private mutating func appendSequence(_ layers: [any Layer], from input: Value,
                                         to graph: inout ONNXGraphBuilder) throws -> Value {
        var value = input
        for layer in layers { value = try appendLayer(layer, value, to: &graph) }
        return value
    }

    private mutating func appendLayer(_ layer: any Layer, _ x: Value, to graph: inout ONNXGraphBuilder) throws -> Value {
        func refuse(_ reason: String) -> PerceptError {
            PerceptError.unsupported(nil, "layer '\(layer.name)' (\(type(of: layer))) cannot be exported to ONNX: \(reason)")
        }
        var y = x
        y.shape = layer.outputShape
        switch layer {
        case let conv as Conv2D:
            guard !x.isFlat else { throw refuse("a convolution after a flatten") }
            y.name = try appendConvolution(conv, x.name, to: &graph)
        case let depthwise as DepthwiseConv2D:
            guard !x.isFlat else { throw refuse("a convolution after a flatten") }
            y.name = try appendDepthwise(depthwise, x.name, to: &graph)
        case let norm as BatchNorm:
            let order = x.hwcIndex
            func parameter(_ p: Parameter) -> String { initializer(p, reordered: order, to: &graph) }
            let inputs = [x.name, parameter(norm.scale), parameter(norm.shift), parameter(norm.runningMean),
                          parameter(norm.runningVariance)]
            y.name = try graph.addNode("BatchNormalization", inputs: inputs, attributes: ["epsilon": .float(norm.epsilon)],
                                       name: norm.name)
        case let activation as Activation:
            switch activation.function {
            case .relu: y.name = try graph.addNode("Relu", inputs: [x.name], name: activation.name)
            case .gelu: y.name = try graph.addGELU(x.name, name: activation.name)
            }
        case let pooling as Pooling:
            guard !x.isFlat else { throw refuse("pooling after a flatten") }
            y.name = try appendPooling(pooling, x.name, to: &graph)
        case is Flatten:
            y = x.isFlat ? x : try flattened(x, name: layer.name, to: &graph)
        case is Dropout:
            break  // the identity at inference
        case let scale as Scale:
            y.name = try graph.addScale(x.name, by: scale.factor, name: scale.name)
        case let linear as Linear:
            let rows = x.isFlat ? x : try flattened(x, name: "\(linear.name).flatten", to: &graph)
            let d = linear.inputShape.count, units = linear.outputShape.count
            // Percept's weight is Cin×Cout (a 1×1 convolution): Gemm's B without transposing.
            var inputs = [rows.name, initializer(linear.weight, reorderedRows: rows.hwcIndex, columns: units, to: &graph)]
            if let bias = linear.bias { inputs.append(initializer(bias, to: &graph)) }
            precondition(linear.weight.count == d * units, "Linear \(linear.name): weight size")
            y = Value(name: try graph.addNode("Gemm", inputs: inputs, name: linear.name), shape: linear.outputShape,
                      isFlat: true, hwcIndex: nil)
        case let residual as Residual:
            let body = try appendSequence(residual.body, from: x, to: &graph)
            let shortcut = try appendSequence(residual.shortcut, from: x, to: &graph)
            guard body.isFlat == shortcut.isFlat, body.hwcIndex == shortcut.hwcIndex else {
                throw refuse("its body and shortcut end in different layouts")
            }
            y = body
            y.name = try graph.addNode("Add", inputs: [body.name, shortcut.name], name: "\(residual.name).add")
        default:
            throw refuse("Percept has no ONNX form for this layer type")
        }
        return y
    }

    /// N×C×H×W → N×(C·H·W) rows in CHW order, remembering where each feature sits in HWC order.
    private func flattened(_ x: Value, name: String, to graph: inout ONNXGraphBuilder) throws -> Value {
        let (h, w, c) = (x.shape.height, x.shape.width, x.shape.channels)
        let order = h * w > 1 ? ONNXGraphBuilder.hwcPositionsOfCHWFeatures(height: h, width: w, channels: c) : nil
        return Value(name: try graph.addFlatten(x.name, name: name), shape: FeatureShape(vector: x.shape.count),
                     isFlat: true, hwcIndex: order)
    }

    private mutating func appendConvolution(_ conv: Conv2D, _ x: String, to graph: inout ONNXGraphBuilder) throws -> String {
        let g = conv.geometry
        let weight = cached(conv.weight.name, to: &graph) { graph in
            // K_H×K_W×Cin×Cout → Cout×Cin×K_H×K_W.
            var oihw = [Float](repeating: 0, count: conv.weight.count)
            let source = conv.weight.value
            for ky in 0..<g.kernelHeight {
                for kx in 0..<g.kernelWidth {
                    for i in 0..<g.inChannels {
                        for o in 0..<g.outChannels {
                            oihw[((o * g.inChannels + i) * g.kernelHeight + ky) * g.kernelWidth + kx] =
                                source[((ky * g.kernelWidth + kx) * g.inChannels + i) * g.outChannels + o]
                        }
                    }
                }
            }
            return graph.addInitializer(conv.weight.name, shape: [g.outChannels, g.inChannels, g.kernelHeight, g.kernelWidth],
                                        values: oihw)
        }
        var inputs = [x, weight]
        if let bias = conv.bias { inputs.append(initializer(bias, to: &graph)) }
        return try graph.addNode("Conv", inputs: inputs, attributes: [
            "kernel_shape": .ints([g.kernelHeight, g.kernelWidth]), "strides": .ints([g.stride, g.stride]),
            "pads": .ints([g.padding, g.padding, g.padding, g.padding]), "group": .int(1),
        ], name: conv.name)
    }

    private mutating func appendDepthwise(_ layer: DepthwiseConv2D, _ x: String, to graph: inout ONNXGraphBuilder) throws -> String {
        let g = layer.geometry
        let weight = cached(layer.weight.name, to: &graph) { graph in
            // K×K×C (channels innermost) → C×1×K×K.
            var values = [Float](repeating: 0, count: layer.weight.count)
            for ky in 0..<g.kernel {
                for kx in 0..<g.kernel {
                    for j in 0..<g.channels {
                        values[(j * g.kernel + ky) * g.kernel + kx] = layer.weight.value[(ky * g.kernel + kx) * g.channels + j]
                    }
                }
            }
            return graph.addInitializer(layer.weight.name, shape: [g.channels, 1, g.kernel, g.kernel], values: values)
        }
        var inputs = [x, weight]
        if let bias = layer.bias { inputs.append(initializer(bias, to: &graph)) }
        // ONNX pads: all the starts (top, left), then all the ends (bottom, right).
        let output = try graph.addNode("Conv", inputs: inputs, attributes: [
            "kernel_shape": .ints([g.kernel, g.kernel]), "strides": .ints([g.stride, g.stride]),
            "pads": .ints([g.top, g.left, g.bottom, g.right]), "group": .int(g.channels),
        ], name: layer.name)
        return layer.clipsToSix ? try graph.addClip(output, lower: 0, upper: 6, name: "\(layer.name).relu6") : output
    }

    private func appendPooling(_ pooling: Pooling, _ x: String, to graph: inout ONNXGraphBuilder) throws -> String {
        let g = pooling.geometry
        if pooling.kind == .average, g.kernelHeight == g.height, g.kernelWidth == g.width {
            return try graph.addNode("GlobalAveragePool", inputs: [x], name: pooling.name)
        }
        // A global max pool is a max pool whose window is the whole map (GlobalMaxPool is not among
        // the operators the importer runs).
        return try graph.addNode(pooling.kind == .max ? "MaxPool" : "AveragePool", inputs: [x], attributes: [
            "kernel_shape": .ints([g.kernelHeight, g.kernelWidth]), "strides": .ints([g.stride, g.stride]),
        ], name: pooling.name)
    }

    /// The initialiser holding `parameter` as it is (a bias, BatchNorm statistics), written once.
    private mutating func initializer(_ parameter: Parameter, reordered order: [Int]? = nil,
                                      to graph: inout ONNXGraphBuilder) -> String {
        cached(parameter.name, to: &graph) { graph in
            graph.addInitializer(parameter.name, shape: [parameter.count], values: order.map { $0.map { parameter.value[$0] } }
                                    ?? parameter.value)
        }
    }

    /// A linear layer's D×units weight with its rows in the graph's feature order.
    private mutating func initializer(_ weight: Parameter, reorderedRows order: [Int]?, columns: Int,
                                      to graph: inout ONNXGraphBuilder) -> String {
        cached(weight.name, to: &graph) { graph in
            let rows = weight.count / columns
            var values = weight.value
            if let order {
                for (row, source) in order.enumerated() {
                    values.replaceSubrange((row * columns)..<((row + 1) * columns),
                                           with: weight.value[(source * columns)..<((source + 1) * columns)])
                }
            }
            return graph.addInitializer(weight.name, shape: [rows, columns], values: values)
        }
    }

    private mutating func cached(_ key: String, to graph: inout ONNXGraphBuilder,
                                 _ make: (inout ONNXGraphBuilder) -> String) -> String {
        if let name = initializers[key] { return name }
        let name = make(&graph)
        initializers[key] = name
        return name
    }
}
