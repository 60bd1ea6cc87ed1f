import Dispatch
import PerceptCore
import PerceptNetwork

// Shape letters as in PerceptNetwork: N items, H×W×C an image value stored channels-innermost
// (NHWC), any other value in ONNX's own row-major order without its batch axis.

/// Where one step reads and writes, for one micro-batch of items.
struct StepBuffers {
    /// The step's inputs, in the order of `GraphStep.inputs`.
    var inputs: [UnsafePointer<Float>]
    var output: UnsafeMutablePointer<Float>
    /// `scratchCount(batch:)` floats the step may use freely.
    var scratch: UnsafeMutablePointer<Float>
}

/// One compiled operation of a graph: reads values, writes one value, single-threaded (the
/// session runs micro-batches on every core at once instead).
protocol GraphStep: AnyObject, Sendable {
    /// The node it came from, for messages.
    var nodeName: String { get }
    /// Indices of the values it reads.
    var inputs: [Int] { get }
    /// Index of the value it writes.
    var output: Int { get }
    /// Scratch floats for `batch` items.
    func scratchCount(batch: Int) -> Int
    func run(_ buffers: StepBuffers, batch: Int)
    /// Floating-point operations per item (2 × multiply-adds) of the convolutions and matrix products.
    var flopsPerItem: Int { get }
    /// What the step computes, for profiles: `pointwise`, `depthwise 3×3/2`, `fallback Softmax`.
    var kindDescription: String { get }
}

extension GraphStep {
    func scratchCount(batch: Int) -> Int { 0 }
    var flopsPerItem: Int { 0 }
    var kindDescription: String { String(describing: type(of: self)).replacingOccurrences(of: "Step", with: "").lowercased() }
}

/// A compiled graph's steps and where their values live: each value in a slot, slots reused once
/// a value's last reader has run, so memory is the widest few values, not all of them.
struct GraphPlan: Sendable {
    var steps: [any GraphStep]
    /// Floats per item of each value.
    var valueCounts: [Int]
    /// The slot each value lives in.
    var slotOfValue: [Int]
    /// Floats per item each slot must hold.
    var slotCounts: [Int]
    var inputValue: Int
    var outputValue: Int
}

/// One worker's buffers for running a plan.
final class GraphWorkspace: @unchecked Sendable {
    let slots: [FloatBuffer]
    let scratch = FloatBuffer()
    /// Seconds spent in each step, accumulated when not nil (`ONNXSession.profile`).
    var stepSeconds: [Double]?

    init(plan: GraphPlan) {
        slots = plan.slotCounts.map { _ in FloatBuffer() }
    }

    /// Runs `batch` items from `input` (NHWC) through `plan`, writing the output value to `output`.
    func run(_ plan: GraphPlan, input: UnsafePointer<Float>, batch: Int, output: UnsafeMutablePointer<Float>) {
        for (slot, count) in zip(slots, plan.slotCounts) { slot.reserve(batch * count) }
        scratch.reserve(plan.steps.map { $0.scratchCount(batch: batch) }.max() ?? 0)
        func pointer(_ value: Int) -> UnsafeMutablePointer<Float> { slots[plan.slotOfValue[value]].pointer }
        pointer(plan.inputValue).update(from: input, count: batch * plan.valueCounts[plan.inputValue])
        for (index, step) in plan.steps.enumerated() {
            let start = stepSeconds == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            step.run(StepBuffers(inputs: step.inputs.map { UnsafePointer(pointer($0)) }, output: pointer(step.output),
                                 scratch: scratch.pointer), batch: batch)
            if stepSeconds != nil {
                stepSeconds?[index] += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }
        }
        output.update(from: pointer(plan.outputValue), count: batch * plan.valueCounts[plan.outputValue])
    }
}

/// The stores every step shares: bias, residual and activation applied to rows of a result.
enum EpilogueKernels {
    /// Applies `epilogue` to `rows` rows of `columns` floats at `output` (row r's addend at the
    /// same offset in the addend value).
    static func apply(_ epilogue: GraphEpilogue, output: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
                      addend: UnsafePointer<Float>?) {
        guard epilogue.bias != nil || addend != nil || epilogue.activation != nil else { return }
        let count = rows * columns
        if let bias = epilogue.bias {
            bias.withUnsafeBufferPointer { b in
                for r in 0..<rows {
                    let row = output + r * columns
                    for j in 0..<columns { row[j] += b[j] }
                }
            }
        }
        if let addend { for i in 0..<count { output[i] += addend[i] } }
        if let activation = epilogue.activation { activate(activation, output, output, count: count) }
    }

    /// y = f(x) elementwise (`x` and `y` may be the same).
    static func activate(_ f: GraphActivation, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        switch f {
        case .relu: for i in 0..<count { y[i] = max(x[i], 0) }
        case .clip(let low, let high): for i in 0..<count { y[i] = min(max(x[i], low), high) }
        default: for i in 0..<count { y[i] = f.apply(x[i]) }
        }
    }
}
