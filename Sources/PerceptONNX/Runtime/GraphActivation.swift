import Foundation

/// The pointwise functions the runtime fuses into the store of the step before them (a
/// convolution's or a matrix product's), or runs as a step of their own.
enum GraphActivation: Equatable, Sendable {
    case relu
    /// `Clip(min, max)`; ReLU6 is `clip(0, 6)`.
    case clip(Float, Float)
    case sigmoid
    /// min(max(alpha·x + beta, 0), 1).
    case hardSigmoid(alpha: Float, beta: Float)
    /// x · min(max(x/6 + 1/2, 0), 1).
    case hardSwish
    /// x · sigmoid(x) (SiLU, "swish"), exported as `Sigmoid` then `Mul`.
    case silu
    /// The error function (the exact GELU is exported as 0.5·x·(1 + erf(x/√2))).
    case erf

    @inline(__always) func apply(_ x: Float) -> Float {
        switch self {
        case .relu: return max(x, 0)
        case .clip(let low, let high): return min(max(x, low), high)
        case .sigmoid: return 1 / (1 + exp(-x))
        case .hardSigmoid(let alpha, let beta): return min(max(alpha * x + beta, 0), 1)
        case .hardSwish: return x * min(max(x / 6 + 0.5, 0), 1)
        case .silu: return x / (1 + exp(-x))
        case .erf: return Foundation.erf(x)
        }
    }
}

extension GraphActivation {
    /// ReLU and clip: f′ follows from f(x) alone (1 strictly inside the bounds), so a store with
    /// the activation fused keeps all backward needs.
    var isDifferentiableFromOutput: Bool {
        switch self {
        case .relu, .clip: return true
        default: return false
        }
    }

    /// f′(x).
    func derivative(_ x: Float) -> Float {
        switch self {
        case .relu: return x > 0 ? 1 : 0
        case .clip(let low, let high): return x > low && x < high ? 1 : 0
        case .sigmoid:
            let s = 1 / (1 + exp(-x))
            return s * (1 - s)
        case .hardSigmoid(let alpha, let beta):
            let z = alpha * x + beta
            return z > 0 && z < 1 ? alpha : 0
        case .hardSwish:
            if x <= -3 { return 0 }
            if x >= 3 { return 1 }
            return x / 3 + 0.5
        case .silu:
            let s = 1 / (1 + exp(-x))
            return s * (1 + x * (1 - s))
        case .erf:
            return 2 / Float.pi.squareRoot() * exp(-x * x)
        }
    }

    /// f′ at the point whose output is `y` (ReLU and clip only, see `isDifferentiableFromOutput`).
    func derivative(output y: Float) -> Float {
        switch self {
        case .relu: return y > 0 ? 1 : 0
        case .clip(let low, let high): return y > low && y < high ? 1 : 0
        default: return 1
        }
    }
}

/// What runs on a step's result before it is stored: a bias per output channel, a residual
/// addend (another value of the same shape, by its position in the step's inputs) and an activation.
struct GraphEpilogue: Sendable {
    var bias: [Float]?
    var addendInput: Int?
    var activation: GraphActivation?
    static let none = GraphEpilogue()
}

/// Where a compiled convolution's weights live in the ONNX graph: its `Conv` node's weight and bias
/// initialisers, and the BatchNormalization folded into it, if any (written back as the identity).
struct ConvolutionOrigin: Sendable {
    var node: String
    var weight: String
    var bias: String?
    /// The folded BatchNorm's scale, shift, mean and variance initialisers and its ε.
    var norm: (scale: String, shift: String, mean: String, variance: String, epsilon: Float)?
}

/// Where a compiled matrix product's constants live in the graph: `Gemm`'s B (stored transposed
/// when `transB`) scaled by alpha, and C scaled by beta; `MatMul`'s B.
struct MatrixOrigin: Sendable {
    var node: String
    var matrix: String
    var transposed: Bool
    var alpha: Float
    var bias: String?
    var beta: Float
}
