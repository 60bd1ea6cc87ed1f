import Foundation
import PerceptCore

// The small compositions every exporter writes: a per-channel or per-feature affine map, a fully
// connected layer, GELU from Erf, softmax. Shape letters: N items, D features, C classes.

extension ONNXGraphBuilder {
    /// x·scale + shift element-wise (`Mul` then `Add`), `scale` and `shift` of `shape` broadcast
    /// against x: `[1, 3, 1, 1]` per channel of an NCHW image, `[D]` per feature of N×D rows.
    public mutating func addAffine(_ x: String, scale: [Float], shift: [Float], shape: [Int], name: String) throws -> String {
        let scaled = try addNode("Mul", inputs: [x, addInitializer("\(name).scale", shape: shape, values: scale)],
                                 name: "\(name).mul")
        return try addNode("Add", inputs: [scaled, addInitializer("\(name).shift", shape: shape, values: shift)],
                           name: "\(name).add")
    }

    /// x·c for one constant c (`Mul` by a scalar initialiser).
    public mutating func addScale(_ x: String, by factor: Float, name: String) throws -> String {
        try addNode("Mul", inputs: [x, addInitializer("\(name).factor", shape: [], values: [factor])], name: name)
    }

    /// A fully connected layer on N×D rows: `Gemm` with `weight` D×units (`transposed`: units×D,
    /// PyTorch's and Percept's linear-model layout) and an optional bias of `units`.
    public mutating func addFullyConnected(_ x: String, weight: [Float], inputs d: Int, units: Int, transposed: Bool,
                                           bias: [Float]?, name: String) throws -> String {
        let weightName = addInitializer("\(name).weight", shape: transposed ? [units, d] : [d, units], values: weight)
        var inputs = [x, weightName]
        if let bias { inputs.append(addInitializer("\(name).bias", shape: [units], values: bias)) }
        return try addNode("Gemm", inputs: inputs, attributes: transposed ? ["transB": .int(1)] : [:], name: name)
    }

    /// Where each feature of a flattened N×C×H×W value (CHW order, ONNX's) sits in Percept's
    /// H×W×C order: Percept's features and weights are gathered with it to match the graph's order.
    public static func hwcPositionsOfCHWFeatures(height h: Int, width w: Int, channels c: Int) -> [Int] {
        var positions = [Int](repeating: 0, count: h * w * c)
        for channel in 0..<c {
            for row in 0..<h {
                for column in 0..<w { positions[(channel * h + row) * w + column] = (row * w + column) * c + channel }
            }
        }
        return positions
    }

    /// NCHW (or any rank) to N×(the rest): `Flatten` at axis 1.
    public mutating func addFlatten(_ x: String, name: String) throws -> String {
        try addNode("Flatten", inputs: [x], attributes: ["axis": .int(1)], name: name)
    }

    /// The exact GELU, ½·x·(1 + erf(x/√2)), as Percept's engine and PyTorch compute it
    /// (opset 17 has no `Gelu`; it arrived in opset 20).
    public mutating func addGELU(_ x: String, name: String) throws -> String {
        let scaled = try addScale(x, by: Float(1 / 2.0.squareRoot()), name: "\(name).over_sqrt2")
        let erf = try addNode("Erf", inputs: [scaled], name: "\(name).erf")
        let onePlus = try addNode("Add", inputs: [erf, addInitializer("\(name).one", shape: [], values: [1])],
                                  name: "\(name).one_plus")
        let product = try addNode("Mul", inputs: [x, onePlus], name: "\(name).times_x")
        return try addScale(product, by: 0.5, name: "\(name).half")
    }

    /// Softmax over the classes of N×C scores.
    public mutating func addSoftmax(_ x: String, name: String = "softmax") throws -> String {
        try addNode("Softmax", inputs: [x], attributes: ["axis": .int(1)], name: name)
    }

    /// min(max(x, lower), upper) (`Clip` with its bounds as scalar inputs, as from opset 11).
    public mutating func addClip(_ x: String, lower: Float, upper: Float, name: String) throws -> String {
        try addNode("Clip", inputs: [x, addInitializer("\(name).min", shape: [], values: [lower]),
                                     addInitializer("\(name).max", shape: [], values: [upper])], name: name)
    }
}
