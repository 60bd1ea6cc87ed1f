/// Updates parameters from their gradients. Each optimiser keeps its own per-parameter state
/// (velocities, moments), saved in checkpoints under "<parameter>.<slot>".
public protocol Optimizer: AnyObject {
    /// One update of every trainable parameter at `learningRate`.
    func step(_ parameters: [Parameter], learningRate: Float)
    /// The optimiser's state arrays by name, for checkpoints.
    var state: [String: [Float]] { get set }
    /// How many updates have been applied.
    var stepCount: Int { get set }
}

/// Stochastic gradient descent with momentum (heavy-ball or Nesterov) and weight decay.
///
/// v ← μ·v + g', with g' = g + λ·w (coupled, "L2") or g' = g (decoupled);
/// w ← w − learningRate·v (or w − learningRate·(g' + μ·v) for Nesterov); decoupled decay then
/// w ← w − learningRate·λ·w (Loshchilov & Hutter 2019). Parameters with `decays == false` get no decay.
public final class SGD: Optimizer {
    public var momentum: Float
    public var nesterov: Bool
    public var weightDecay: Float
    public var decoupledWeightDecay: Bool
    public var state: [String: [Float]] = [:]
    public var stepCount = 0

    public init(momentum: Float = 0.9, nesterov: Bool = false, weightDecay: Float = 0, decoupledWeightDecay: Bool = false) {
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    public func step(_ parameters: [Parameter], learningRate: Float) {
        stepCount += 1
        for p in parameters where p.trainable {
            let key = "\(p.name).velocity"
            var v = state.removeValue(forKey: key) ?? [Float](repeating: 0, count: p.count)
            let decay = p.decays ? weightDecay * p.weightDecayScale : 0
            let coupled = decoupledWeightDecay ? 0 : decay, decoupled = decoupledWeightDecay ? decay : 0
            OptimizerKernels.sgdStep(weights: &p.value, gradient: p.gradient, velocity: &v,
                                     learningRate: learningRate * p.learningRateScale, momentum: momentum,
                                     nesterov: nesterov, coupledDecay: coupled, decoupledDecay: decoupled)
            state[key] = v
        }
    }
}

/// Adam (Kingma & Ba 2015) and, with decoupled weight decay, AdamW (Loshchilov & Hutter 2019).
///
/// m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², w ← w − learningRate·m̂/(√v̂ + ε) with bias-corrected
/// m̂, v̂;
/// AdamW also w ← w − learningRate·λ·w; plain Adam with decay adds λ·w to g instead.
public final class Adam: Optimizer {
    public var beta1: Float, beta2: Float, epsilon: Float
    public var weightDecay: Float
    public var decoupledWeightDecay: Bool
    public var state: [String: [Float]] = [:]
    public var stepCount = 0

    public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0,
                decoupledWeightDecay: Bool = true) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    public func step(_ parameters: [Parameter], learningRate: Float) {
        stepCount += 1
        let t = Float(stepCount)
        let correction1 = 1 - pow(beta1, t), correction2 = 1 - pow(beta2, t)
        for p in parameters where p.trainable {
            var m = state.removeValue(forKey: "\(p.name).m") ?? [Float](repeating: 0, count: p.count)
            var v = state.removeValue(forKey: "\(p.name).v") ?? [Float](repeating: 0, count: p.count)
            let decay = p.decays ? weightDecay * p.weightDecayScale : 0
            let coupled = decoupledWeightDecay ? 0 : decay, decoupled = decoupledWeightDecay ? decay : 0
            OptimizerKernels.adamStep(weights: &p.value, gradient: p.gradient, m: &m, v: &v,
                                      learningRate: learningRate * p.learningRateScale, beta1: beta1, beta2: beta2,
                                      epsilon: epsilon, correction1: correction1, correction2: correction2,
                                      coupledDecay: coupled, decoupledDecay: decoupled)
            state["\(p.name).m"] = m
            state["\(p.name).v"] = v
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
