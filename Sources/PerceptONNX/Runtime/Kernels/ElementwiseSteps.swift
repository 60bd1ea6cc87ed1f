import PerceptNetwork

/// An activation on its own: y = f(x).
final class ActivationStep: GraphStep, @unchecked Sendable {
    let nodeName: String
    let inputs: [Int]
    let output: Int
    let function: GraphActivation
    let count: Int

    init(nodeName: String, input: Int, output: Int, function: GraphActivation, count: Int) {
        self.nodeName = nodeName
        self.inputs = [input]
        self.output = output
        self.function = function
        self.count = count
    }

    func run(_ buffers: StepBuffers, batch: Int) {
        EpilogueKernels.activate(function, buffers.inputs[0], buffers.output, count: batch * count)
    }
}

/// `Add`, `Sub`, `Mul` or `Div` of two operands that are each the output's full shape, one value
/// per channel (squeeze-excite's gate, a per-channel bias) or one scalar — for an item's own
/// values or for a constant shared by every item.
final class BinaryStep: GraphStep, @unchecked Sendable {
    enum Operation { case add, subtract, multiply, divide }
    /// How an operand varies over an item of `pixels` × `channels` (rows × columns in storage order).
    enum Pattern { case full, channels, scalar }
    /// An operand: a value (the index into `inputs`) or a constant in storage order.
    struct Operand {
        var input: Int?
        var constant: [Float]
        var pattern: Pattern
    }

    let nodeName: String
    let inputs: [Int]
    let output: Int
    let operation: Operation
    let left: Operand, right: Operand
    /// An item of the output as rows (pixels) × columns (channels).
    let pixels: Int, channels: Int

    init(nodeName: String, inputs: [Int], output: Int, operation: Operation, left: Operand, right: Operand,
         pixels: Int, channels: Int) {
        self.nodeName = nodeName
        self.inputs = inputs
        self.output = output
        self.operation = operation
        self.left = left
        self.right = right
        self.pixels = pixels
        self.channels = channels
    }

    /// Floats per item an operand of `pattern` has.
    func perItem(_ pattern: Pattern) -> Int {
        switch pattern {
        case .full: return pixels * channels
        case .channels: return channels
        case .scalar: return 1
        }
    }

    func run(_ buffers: StepBuffers, batch: Int) {
        left.constant.withUnsafeBufferPointer { leftConstant in
            right.constant.withUnsafeBufferPointer { rightConstant in
                for n in 0..<batch {
                    func base(_ operand: Operand, _ constant: UnsafeBufferPointer<Float>) -> UnsafePointer<Float> {
                        if let input = operand.input { return buffers.inputs[input] + n * perItem(operand.pattern) }
                        return constant.baseAddress!
                    }
                    let a = base(left, leftConstant), b = base(right, rightConstant)
                    let y = buffers.output + n * pixels * channels
                    for p in 0..<pixels {
                        let aRow = left.pattern == .full ? a + p * channels : a
                        let bRow = right.pattern == .full ? b + p * channels : b
                        let row = y + p * channels
                        let aStep = left.pattern == .scalar ? 0 : 1, bStep = right.pattern == .scalar ? 0 : 1
                        switch operation {
                        case .add: for c in 0..<channels { row[c] = aRow[c * aStep] + bRow[c * bStep] }
                        case .subtract: for c in 0..<channels { row[c] = aRow[c * aStep] - bRow[c * bStep] }
                        case .multiply: for c in 0..<channels { row[c] = aRow[c * aStep] * bRow[c * bStep] }
                        case .divide: for c in 0..<channels { row[c] = aRow[c * aStep] / bRow[c * bStep] }
                        }
                    }
                }
            }
        }
    }
}

/// The mean over an image's pixels: GlobalAveragePool, or ReduceMean over H and W (N×H×W×C → N×C,
/// which is also N×C×1×1 in either order).
final class GlobalAverageStep: GraphStep, @unchecked Sendable {
    let nodeName: String
    let inputs: [Int]
    let output: Int
    let shape: FeatureShape

    init(nodeName: String, input: Int, output: Int, shape: FeatureShape) {
        self.nodeName = nodeName
        self.inputs = [input]
        self.output = output
        self.shape = shape
    }

    func run(_ buffers: StepBuffers, batch: Int) {
        let (pixels, c) = (shape.height * shape.width, shape.channels)
        let scale = 1 / Float(pixels)
        for n in 0..<batch {
            let y = buffers.output + n * c
            let x = buffers.inputs[0] + n * shape.count
            y.update(repeating: 0, count: c)
            for p in 0..<pixels { for ch in 0..<c { y[ch] += x[p * c + ch] } }
            for ch in 0..<c { y[ch] *= scale }
        }
    }
}

/// `Concat` along the channels of images (or along vectors): each pixel's channels in input order.
final class ConcatStep: GraphStep, @unchecked Sendable {
    let nodeName: String
    let inputs: [Int]
    let output: Int
    let pixels: Int
    let widths: [Int]

    init(nodeName: String, inputs: [Int], output: Int, pixels: Int, widths: [Int]) {
        self.nodeName = nodeName
        self.inputs = inputs
        self.output = output
        self.pixels = pixels
        self.widths = widths
    }

    func run(_ buffers: StepBuffers, batch: Int) {
        let total = widths.reduce(0, +)
        for row in 0..<(batch * pixels) {
            var target = buffers.output + row * total
            for (input, width) in zip(buffers.inputs, widths) {
                target.update(from: input + row * width, count: width)
                target += width
            }
        }
    }
}
