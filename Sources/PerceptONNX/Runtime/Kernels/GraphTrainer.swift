import PerceptCore
import PerceptNetwork

/// Runs a plan compiled for training forward, keeping every value, and backward, leaving each
/// step's parameter gradients in the step; then SGD with Nesterov momentum updates them.
final class GraphTrainer {
    let plan: GraphPlan
    let steps: [any TrainableStep]
    private let slots: [FloatBuffer]
    private let gradients: [FloatBuffer]
    private let scratch = FloatBuffer()
    /// Momentum buffers by step index: weight, then bias.
    private var velocities: [Int: ([Float], [Float])] = [:]

    /// - Throws: `PerceptError.unsupported` naming the first node whose step has no backward pass.
    init(plan: GraphPlan, path: String) throws {
        var trainable: [any TrainableStep] = []
        for step in plan.steps {
            guard let step = step as? any TrainableStep, (step as? BinaryStep)?.operation != .divide else {
                throw PerceptError.unsupported(path, "node '\(step.nodeName)' (\(step.kindDescription)) cannot be fine-tuned "
                    + "through; fine-tune fewer blocks")
            }
            if let conv = step as? ConvolutionStep, case .dense(_, let pad) = conv.kind, pad != (0, 0, 0, 0) {
                throw PerceptError.unsupported(path, "node '\(step.nodeName)': a convolution with uneven padding cannot be "
                    + "fine-tuned; fine-tune fewer blocks")
            }
            trainable.append(step)
        }
        self.plan = plan
        steps = trainable
        slots = plan.slotCounts.map { _ in FloatBuffer() }
        gradients = plan.slotCounts.map { _ in FloatBuffer() }
    }

    private func pointer(_ value: Int) -> UnsafeMutablePointer<Float> { slots[plan.slotOfValue[value]].pointer }
    private func gradient(_ value: Int) -> UnsafeMutablePointer<Float> { gradients[plan.slotOfValue[value]].pointer }

    /// The output value for `batch` items of `input` (items × the plan's input count), every value kept.
    func forward(_ input: [Float], batch: Int) -> [Float] {
        for (slot, count) in zip(slots, plan.slotCounts) { slot.reserve(batch * count) }
        scratch.reserve(max(plan.steps.map { $0.scratchCount(batch: batch) }.max() ?? 0,
                            steps.map { $0.backwardScratchCount(batch: batch) }.max() ?? 0))
        input.withUnsafeBufferPointer { pointer(plan.inputValue).update(from: $0.baseAddress!, count: input.count) }
        for step in plan.steps {
            step.run(StepBuffers(inputs: step.inputs.map { UnsafePointer(pointer($0)) }, output: pointer(step.output),
                                 scratch: scratch.pointer), batch: batch)
        }
        return Array(UnsafeBufferPointer(start: pointer(plan.outputValue), count: batch * plan.valueCounts[plan.outputValue]))
    }

    /// Back-propagates ∂loss/∂output of the latest forward pass; returns ∂loss/∂input.
    @discardableResult
    func backward(_ dOutput: [Float], batch: Int) -> [Float] {
        for (slot, count) in zip(gradients, plan.slotCounts) {
            slot.reserve(batch * count)
            slot.zero(batch * count)
        }
        dOutput.withUnsafeBufferPointer { gradient(plan.outputValue).update(from: $0.baseAddress!, count: dOutput.count) }
        for step in steps.reversed() {
            step.backward(BackwardBuffers(inputs: step.inputs.map { UnsafePointer(pointer($0)) },
                                          output: UnsafePointer(pointer(step.output)),
                                          dOutput: UnsafePointer(gradient(step.output)),
                                          dInputs: step.inputs.map { gradient($0) }, scratch: scratch.pointer),
                          batch: batch)
        }
        return Array(UnsafeBufferPointer(start: gradient(plan.inputValue), count: batch * plan.valueCounts[plan.inputValue]))
    }

    /// The sum of squares of every parameter gradient of the latest backward pass.
    var gradientSquaredNorm: Double {
        func sum(_ values: [Float]) -> Double { values.reduce(0) { $0 + Double($1) * Double($1) } }
        return steps.reduce(0) { total, step in
            if let conv = step as? ConvolutionStep { return total + sum(conv.weightGradient) + sum(conv.biasGradient) }
            if let matrix = step as? MatrixStep { return total + sum(matrix.matrixGradient) + sum(matrix.biasGradient) }
            return total
        }
    }

    /// Every parameter gradient of the latest backward pass in one vector — the steps in order, each
    /// weight then bias — with zeros for a step no pass has reached: what ranks add up.
    var gradientVector: [Float] {
        var vector: [Float] = []
        for (step, sizes) in zip(steps, parameterSizes) {
            let (weight, bias) = gradients(of: step)
            vector += (weight.count == sizes.weight ? weight : [Float](repeating: 0, count: sizes.weight))
                + (bias.count == sizes.bias ? bias : [Float](repeating: 0, count: sizes.bias))
        }
        return vector
    }

    /// Sets every parameter gradient from a vector laid out as `gradientVector`.
    func setGradients(_ vector: ArraySlice<Float>) {
        var next = vector.startIndex
        for (step, sizes) in zip(steps, parameterSizes) {
            let weight = Array(vector[next..<(next + sizes.weight)])
            let bias = Array(vector[(next + sizes.weight)..<(next + sizes.weight + sizes.bias)])
            next += sizes.weight + sizes.bias
            if let conv = step as? ConvolutionStep {
                (conv.weightGradient, conv.biasGradient) = (weight, bias)
            } else if let matrix = step as? MatrixStep {
                (matrix.matrixGradient, matrix.biasGradient) = (weight, bias)
            }
        }
    }

    /// The length of `gradientVector`.
    var gradientCount: Int { parameterSizes.reduce(0) { $0 + $1.weight + $1.bias } }

    /// Each step's weight and bias counts (0 and 0 for a step without parameters).
    private var parameterSizes: [(weight: Int, bias: Int)] {
        steps.map { step in
            if let conv = step as? ConvolutionStep { return (conv.weight.count, conv.epilogue.bias?.count ?? 0) }
            if let matrix = step as? MatrixStep { return (matrix.matrix.count, matrix.epilogue.bias?.count ?? 0) }
            return (0, 0)
        }
    }

    /// A step's weight and bias gradients of the latest backward pass (empty for a step without parameters).
    private func gradients(of step: any TrainableStep) -> (weight: [Float], bias: [Float]) {
        if let conv = step as? ConvolutionStep { return (conv.weightGradient, conv.biasGradient) }
        if let matrix = step as? MatrixStep { return (matrix.matrixGradient, matrix.biasGradient) }
        return ([], [])
    }

    /// Multiplies every parameter gradient by `factor` (gradient clipping).
    func scaleGradients(by factor: Float) {
        for step in steps {
            if let conv = step as? ConvolutionStep {
                conv.weightGradient = conv.weightGradient.map { $0 * factor }
                conv.biasGradient = conv.biasGradient.map { $0 * factor }
            } else if let matrix = step as? MatrixStep {
                matrix.matrixGradient = matrix.matrixGradient.map { $0 * factor }
                matrix.biasGradient = matrix.biasGradient.map { $0 * factor }
            }
        }
    }

    /// One SGD step with Nesterov momentum on every convolution's and matrix product's weights and
    /// biases; weight decay on weights only.
    func update(learningRate: Float, momentum: Float, weightDecay: Float) {
        func step(_ value: inout [Float], _ gradient: [Float], _ velocity: inout [Float], decay: Float) {
            guard gradient.count == value.count, !value.isEmpty else { return }
            if velocity.count != value.count { velocity = [Float](repeating: 0, count: value.count) }
            for i in value.indices {
                let g = gradient[i] + decay * value[i]
                velocity[i] = momentum * velocity[i] + g
                value[i] -= learningRate * (g + momentum * velocity[i])
            }
        }
        for (index, trainable) in steps.enumerated() {
            var (weightVelocity, biasVelocity) = velocities[index] ?? ([], [])
            if let conv = trainable as? ConvolutionStep {
                step(&conv.weight, conv.weightGradient, &weightVelocity, decay: weightDecay)
                if var bias = conv.epilogue.bias {
                    step(&bias, conv.biasGradient, &biasVelocity, decay: 0)
                    conv.epilogue.bias = bias
                }
            } else if let matrix = trainable as? MatrixStep {
                step(&matrix.matrix, matrix.matrixGradient, &weightVelocity, decay: weightDecay)
                if var bias = matrix.epilogue.bias {
                    step(&bias, matrix.biasGradient, &biasVelocity, decay: 0)
                    matrix.epilogue.bias = bias
                }
            }
            velocities[index] = (weightVelocity, biasVelocity)
        }
    }
}
