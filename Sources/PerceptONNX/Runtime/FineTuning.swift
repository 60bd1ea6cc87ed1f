import Foundation
import PerceptCore
import SwiftProtobuf

/// How the last blocks of a backbone and its head are fine-tuned.
public struct FineTuningOptions: Sendable, Codable, Equatable {
    public var epochs = 15
    public var batchSize = 32
    /// The peak of a one-cycle schedule: linear warm-up over the first 10% of steps, then cosine to 0.
    /// 0.003 for EfficientNet-Lite0 (0.01 diverged in 3 runs of 4, ../shared/models/README.md).
    public var learningRate: Float = 0.003
    public var momentum: Float = 0.9
    public var weightDecay: Float = 5e-5
    /// The largest norm of all gradients together; a larger step is scaled down to it, so a few
    /// outlying batches (or a feature with a tiny spread, scaled up by the standardisation) cannot
    /// throw the pretrained weights away.
    public var gradientClip: Float = 2
    public var seed: UInt64 = 1

    public init() {}

    /// The learning rate at `step` of `total`.
    public func learningRate(step: Int, of total: Int) -> Float {
        let warmUp = max(1, total / 10)
        if step < warmUp { return learningRate * Float(step + 1) / Float(warmUp) }
        let progress = Float(step - warmUp) / Float(max(1, total - warmUp))
        return learningRate * 0.5 * (1 + cos(.pi * progress))
    }
}

/// One rank's part in data-parallel fine-tuning (`ONNXFineTuner.train`).
public struct FineTuningShare {
    /// The training images this rank holds views of: a contiguous range of indices.
    public var images: Range<Int>
    /// Replaces a vector by its sum over the ranks (an allreduce).
    public var sum: (inout [Float]) throws -> Void

    public init(images: Range<Int>, sum: @escaping (inout [Float]) throws -> Void) {
        self.images = images
        self.sum = sum
    }
}

/// One epoch of fine-tuning: the training batches' mean loss and accuracy.
public struct FineTuningEpoch: Sendable {
    public var epoch: Int
    public var loss: Double
    public var accuracy: Double
    public var seconds: Double
}

/// Fine-tunes the last blocks of an ONNX backbone together with a softmax head on its features.
///
/// The graph is cut where a block ends (a convolution's output with no activation after it — a
/// MobileNet/EfficientNet projection — or a residual sum) `blocks` blocks before the feature vector.
/// Everything before the cut stays frozen and runs as an ordinary `ONNXSession` (`frozenSession`),
/// so its activations can be computed once per augmented view and reused every epoch; the part
/// after it is compiled for training and learns with the head. `tunedModel()` writes the trained
/// weights back into the graph (a folded BatchNorm becomes the identity), so the result is an
/// ordinary ONNX backbone again.
public final class ONNXFineTuner {
    public let model: ONNXModel
    public let featureName: String
    /// The value where the trainable part starts, and its per-item dimensions (ONNX order).
    public let cutName: String
    public let cutDimensions: [Int]
    public let blocks: Int
    private let serialized: Data
    let trainer: GraphTrainer

    /// - Parameters:
    ///   - serializedBytes: the model file's bytes (the trained weights are written into a copy).
    ///   - features: the feature vector the head reads (a backbone's `classifierInput`).
    ///   - blocks: how many blocks before `features` to train (≥ 1).
    /// - Throws: `PerceptError.invalidArgument` when the graph has fewer blocks, `.unsupported`
    ///   naming the node when the trainable part holds an operator without a backward pass.
    public init(model: ONNXModel, serializedBytes: Data, features: String, blocks: Int) throws {
        guard blocks >= 1 else { throw PerceptError.invalidArgument("fine-tuning needs at least 1 block, got \(blocks)") }
        var full = GraphCompiler(model: model)
        let plan = try full.compile(output: features)
        // The graph input counts as the first boundary: fine-tuning every block starts there.
        let blockEnds = [plan.inputValue] + plan.steps.compactMap { step -> Int? in
            guard let conv = step as? ConvolutionStep, conv.output != plan.outputValue,
                  conv.epilogue.activation == nil || conv.epilogue.addendInput != nil else { return nil }
            return conv.output
        }
        guard blockEnds.count >= blocks, let name = full.latestName[blockEnds[blockEnds.count - blocks]]
            ?? (blocks == blockEnds.count ? model.inputs[0].name : nil) else {
            throw PerceptError.invalidArgument("\(model.path) has \(blockEnds.count) blocks before '\(features)'; "
                + "fine-tune at most that many")
        }
        var tail = GraphCompiler(model: model)
        tail.forTraining = true
        tail.start = (name, full.dims[blockEnds[blockEnds.count - blocks]])
        let tailPlan: GraphPlan
        do {
            tailPlan = try tail.compile(output: features)
        } catch let error as PerceptError {
            throw PerceptError(error.kind, path: model.path, "cannot fine-tune \(blocks) blocks: \(error.reason)")
        }
        trainer = try GraphTrainer(plan: tailPlan, path: model.path)
        for step in trainer.steps {
            if let conv = step as? ConvolutionStep, conv.origin == nil {
                throw PerceptError.unsupported(model.path, "node '\(conv.nodeName)': its weights are not an initialiser")
            }
        }
        self.model = model
        serialized = serializedBytes
        featureName = features
        cutName = name
        cutDimensions = tail.start?.dims ?? []
        self.blocks = blocks
    }

    /// Floats per item at the cut.
    public var cutCount: Int { cutDimensions.reduce(1, *) }

    /// The frozen part: images in, the cut's activations out (NHWC for an image value).
    public func frozenSession(threads: Int = Parallel.defaultThreadCount) throws -> ONNXSession {
        try ONNXSession(model: model, output: cutName, threads: threads)
    }

    /// The trainable part's feature vectors for `batch` items of cut activations, with the current weights.
    public func features(cutActivations: [Float], batch: Int) -> [Float] {
        trainer.forward(cutActivations, batch: batch)
    }

    /// Trains the last blocks and the head. `views[v]` holds the cut activations of every training
    /// image under augmented view v (images × `cutCount`); each epoch draws one view per image.
    /// Returns the head's trained weights (D×K) and bias.
    ///
    /// `standardization` (per-feature mean and scale, as the frozen head was fitted with) stays fixed
    /// in front of the head: the head keeps learning on well-scaled inputs while the features move.
    ///
    /// Data-parallel (several ranks, `share`): `views` hold only the images of `share.images` (this
    /// rank's contiguous share; `labels` still hold every image's), each batch is drawn over all
    /// images as in one process, and each rank runs the members it holds, their loss averaged over
    /// the whole batch. `share.sum` then adds up a vector over the ranks (an allreduce) — every
    /// gradient with the step's loss and correct count — so every rank clips and updates with the
    /// whole batch's gradient.
    public func train(views: [[Float]], labels: [Int], head: (weights: [Float], bias: [Float]),
                      standardization: (mean: [Float], scale: [Float])? = nil,
                      options: FineTuningOptions = FineTuningOptions(),
                      share: FineTuningShare? = nil,
                      progress: ((FineTuningEpoch) -> Void)? = nil) throws -> (weights: [Float], bias: [Float]) {
        let count = labels.count
        let held = share?.images ?? 0..<count
        guard count > 0, !views.isEmpty, held.lowerBound >= 0, held.upperBound <= count,
              views.allSatisfy({ $0.count == held.count * cutCount }) else {
            throw PerceptError.invalidArgument("fine-tuning: every view must hold \(held.count) images of \(cutCount) floats")
        }
        var softmax = SoftmaxHead(weights: head.weights, bias: head.bias)
        if let standardization, standardization.mean.count != softmax.inputs || standardization.scale.count != softmax.inputs {
            throw PerceptError.invalidArgument("fine-tuning: the standardisation has \(standardization.mean.count) features, "
                + "the head \(softmax.inputs)")
        }
        guard labels.allSatisfy({ $0 >= 0 && $0 < softmax.classes }) else {
            throw PerceptError.invalidArgument("fine-tuning: a label is outside the head's \(softmax.classes) classes")
        }
        var random = SeededRandom(seed: options.seed)
        let batchSize = max(1, min(options.batchSize, count))
        let stepsPerEpoch = (count + batchSize - 1) / batchSize
        var step = 0
        for epoch in 0..<options.epochs {
            let start = Date()
            var order = Array(0..<count)
            order.shuffle(using: &random)
            var loss = 0.0, correct = 0
            for first in stride(from: 0, to: count, by: batchSize) {
                let members = Array(order[first..<min(first + batchSize, count)])
                // Every rank draws every member's view, so all follow one random sequence.
                let viewOf = members.map { _ in Int(random.next() % UInt64(views.count)) }
                let mine = members.indices.filter { held.contains(members[$0]) }
                var stepLoss = 0.0, stepCorrect = 0
                if mine.isEmpty {
                    trainer.setGradients([Float](repeating: 0, count: trainer.gradientCount)[...])
                    softmax.setGradients([Float](repeating: 0, count: softmax.weights.count + softmax.bias.count)[...])
                } else {
                    var batch: [Float] = []
                    batch.reserveCapacity(mine.count * cutCount)
                    for j in mine {
                        let item = members[j] - held.lowerBound
                        batch.append(contentsOf: views[viewOf[j]][(item * cutCount)..<((item + 1) * cutCount)])
                    }
                    var features = trainer.forward(batch, batch: mine.count)
                    if let (mean, scale) = standardization {
                        for i in features.indices { features[i] = (features[i] - mean[i % mean.count]) * scale[i % scale.count] }
                    }
                    var result = softmax.backward(features, labels: mine.map { labels[members[$0]] }, batch: mine.count,
                                                  meanOver: members.count)
                    if let scale = standardization?.scale {
                        for i in result.dFeatures.indices { result.dFeatures[i] *= scale[i % scale.count] }
                    }
                    trainer.backward(result.dFeatures, batch: mine.count)
                    stepLoss = result.loss * Double(members.count)
                    stepCorrect = result.correct
                }
                if let share {
                    var sums = trainer.gradientVector + softmax.gradientVector + [Float(stepLoss), Float(stepCorrect)]
                    try share.sum(&sums)
                    let network = trainer.gradientCount
                    trainer.setGradients(sums[0..<network])
                    softmax.setGradients(sums[network..<(sums.count - 2)])
                    stepLoss = Double(sums[sums.count - 2])
                    stepCorrect = Int(sums[sums.count - 1].rounded())
                }
                let norm = Float((trainer.gradientSquaredNorm + softmax.gradientSquaredNorm).squareRoot())
                if options.gradientClip > 0, norm > options.gradientClip {
                    trainer.scaleGradients(by: options.gradientClip / norm)
                    softmax.scaleGradients(by: options.gradientClip / norm)
                }
                let rate = options.learningRate(step: step, of: options.epochs * stepsPerEpoch)
                softmax.update(learningRate: rate, momentum: options.momentum, weightDecay: options.weightDecay)
                trainer.update(learningRate: rate, momentum: options.momentum, weightDecay: options.weightDecay)
                loss += stepLoss
                correct += stepCorrect
                step += 1
            }
            guard loss.isFinite else {
                throw PerceptError.invalidData("fine-tuning diverged in epoch \(epoch + 1) (the loss is not finite); "
                    + "lower the learning rate (now \(options.learningRate))")
            }
            progress?(FineTuningEpoch(epoch: epoch + 1, loss: loss / Double(count), accuracy: Double(correct) / Double(count),
                                      seconds: Date().timeIntervalSince(start)))
        }
        return (softmax.weights, softmax.bias)
    }

    /// The model's bytes with the trained weights in place of the originals.
    public func tunedModel() throws -> Data {
        var editor = InitializerEditor(proto: try Onnx_ModelProto(serializedBytes: serialized), path: model.path)
        for step in trainer.steps {
            if let conv = step as? ConvolutionStep, let origin = conv.origin {
                try editor.writeBack(conv, origin)
            } else if let matrix = step as? MatrixStep, let origin = matrix.origin {
                let (k, m) = (matrix.inner, matrix.columns)
                let values = matrix.matrix.map { $0 / origin.alpha }
                try editor.write(origin.matrix, origin.transposed ? [m, k] : [k, m],
                                 origin.transposed ? (0..<(m * k)).map { values[($0 % k) * m + $0 / k] } : values)
                if let bias = origin.bias, let trained = matrix.epilogue.bias {
                    try editor.write(bias, [m], trained.map { $0 / origin.beta })
                }
            }
        }
        return try editor.proto.serializedBytes()
    }
}

/// Replaces initialisers of a serialised model by name.
struct InitializerEditor {
    var proto: Onnx_ModelProto
    let path: String
    private var index: [String: Int] = [:]

    init(proto: Onnx_ModelProto, path: String) {
        self.proto = proto
        self.path = path
        for (i, tensor) in proto.graph.initializer.enumerated() { index[tensor.name] = i }
    }

    mutating func write(_ name: String, _ shape: [Int], _ values: [Float]) throws {
        guard let i = index[name] else { throw PerceptError.corrupt(path, "initialiser '\(name)' is missing from the serialised model") }
        proto.graph.initializer[i] = ONNXTensor.proto(name: name, shape: shape, values: values)
    }

    /// Writes a trained convolution's weights (and bias) in ONNX's layout; a folded BatchNorm becomes the identity.
    mutating func writeBack(_ conv: ConvolutionStep, _ origin: ConvolutionOrigin) throws {
        let w = conv.weight
        switch conv.kind {
        case .depthwise(let g):
            let (c, k) = (g.channels, g.kernel)
            try write(origin.weight, [c, 1, k, k], (0..<(c * k * k)).map { i in w[(i % (k * k)) * c + i / (k * k)] })
        case .pointwise(_, let cin, let cout):
            try write(origin.weight, [cout, cin, 1, 1], (0..<(cout * cin)).map { i in w[(i % cin) * cout + i / cin] })
        case .dense(let g, _):
            let (m, c, kh, kw) = (g.outChannels, g.inChannels, g.kernelHeight, g.kernelWidth)
            try write(origin.weight, [m, c, kh, kw], (0..<(m * c * kh * kw)).map { i in
                let (o, rest) = (i / (c * kh * kw), i % (c * kh * kw))
                let (ci, y, x) = (rest / (kh * kw), (rest % (kh * kw)) / kw, rest % kw)
                return w[((y * kw + x) * c + ci) * m + o]
            })
        }
        guard let bias = conv.epilogue.bias else { return }
        if let name = origin.bias {
            try write(name, [bias.count], bias)
        } else {
            // A folded BatchNorm left a bias the Conv node had no input for: give it one.
            let name = origin.node + ".percept_bias"
            guard let node = proto.graph.node.firstIndex(where: { $0.name == origin.node && $0.opType == "Conv" }) else {
                throw PerceptError.corrupt(path, "node '\(origin.node)' is missing from the serialised model")
            }
            index[name] = proto.graph.initializer.count
            proto.graph.initializer.append(ONNXTensor.proto(name: name, shape: [bias.count], values: bias))
            proto.graph.node[node].input = Array(proto.graph.node[node].input.prefix(2)) + [name]
        }
        if let norm = origin.norm {
            // The BatchNorm's work is now in the convolution: make it the identity, (x − 0)/√(1 − ε + ε)·1 + 0.
            let c = bias.count
            try write(norm.scale, [c], [Float](repeating: 1, count: c))
            try write(norm.shift, [c], [Float](repeating: 0, count: c))
            try write(norm.mean, [c], [Float](repeating: 0, count: c))
            try write(norm.variance, [c], [Float](repeating: 1 - norm.epsilon, count: c))
        }
    }
}

extension ONNXTensor {
    /// A Float32 `TensorProto` with little-endian raw data.
    static func proto(name: String, shape: [Int], values: [Float]) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = shape.map { Int64($0) }
        tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.rawData = RawTensorData.bytes(values)
        return tensor
    }
}
