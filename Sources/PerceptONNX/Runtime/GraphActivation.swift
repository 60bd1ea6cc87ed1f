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

    @inline(__always) func apply(_ x: Float) -> Float {
        switch self {
        case .relu: return max(x, 0)
        case .clip(let low, let high): return min(max(x, low), high)
        case .sigmoid: return 1 / (1 + exp(-x))
        case .hardSigmoid(let alpha, let beta): return min(max(alpha * x + beta, 0), 1)
        case .hardSwish: return x * min(max(x / 6 + 0.5, 0), 1)
        case .silu: return x / (1 + exp(-x))
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
