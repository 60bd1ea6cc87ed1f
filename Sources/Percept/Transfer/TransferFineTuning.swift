import Foundation
import PerceptCore
import PerceptData
import PerceptImage
import PerceptModelKit
import PerceptONNX

/// `--fine-tune N`: after the frozen head is fitted, the backbone's last N blocks and the head
/// train together on augmented views (random crops of the resized image, horizontal flips).
///
/// The frozen part before the cut runs once per view, and its activations are reused every epoch
/// (`ONNXFineTuner`); so a view is a fixed augmentation of an image, and each epoch draws one of
/// an image's views at random: four views cost four frozen passes, not one per epoch.
///
/// Under several ranks (`job.communicator`) each rank runs the frozen part on its contiguous share of
/// the images only, and each batch's gradient is summed over the ranks (`ONNXFineTuner.train`'s
/// `share`): the frozen passes and the batches are split, the result is one process's.
struct TransferFineTuning {
    var blocks: Int
    var options: FineTuningOptions
    /// Views per training image: the plain centre crop, its mirror image, then random crops (each
    /// mirrored or not at random).
    var views = 4
    /// Floats of cached activations at most (4 GB).
    static let activationBudget = 1 << 30

    /// The fine-tuned backbone and head; the standardisation the frozen head was fitted with stays
    /// in front of the head, fixed.
    func run(backbone: Backbone, standardization: FeatureStandardization, head: ClassifierHead, job: TrainingJob)
        throws -> (backbone: Backbone, standardization: FeatureStandardization, head: ClassifierHead, history: TrainingHistory) {
        guard head.kind == .softmax else {
            throw PerceptError.invalidArgument("--fine-tune trains the backbone with a softmax head; drop --head mlp")
        }
        guard let bytes = backbone.onnxBytes else {
            throw PerceptError.invalidArgument("--fine-tune needs an ONNX backbone; '\(backbone.spec.name)' has no graph to train")
        }
        let model = try ONNXModel(serializedBytes: bytes, path: "backbone '\(backbone.spec.name)'")
        guard let featureName = backbone.spec.featureNode ?? model.classifierInput?.name else {
            throw PerceptError.unsupported(model.path, "the graph has no feature vector to fine-tune up to")
        }
        let tuner = try ONNXFineTuner(model: model, serializedBytes: bytes, features: featureName, blocks: blocks)
        let frozen = try tuner.frozenSession(threads: job.threads ?? Parallel.defaultThreadCount)
        let communicator = job.communicator
        let held = communicator.shard(of: job.train.count)
        // The cached activations must fit in memory: fewer views on large sets, a clear refusal past that.
        let perView = held.count * tuner.cutCount
        let views = min(self.views, Self.activationBudget / max(1, perView))
        guard views >= 1 else {
            let gigabytes = Double(perView) * 4 / Double(1 << 30)
            throw PerceptError.invalidArgument(String(format: "fine-tuning %d block(s) on %d images would cache %.1f GB of "
                + "activations per view; fine-tune fewer blocks (the cut is then later, its activations smaller) or "
                + "train on fewer images", blocks, held.count, gigabytes))
        }
        try job.progress("fine-tuning the last \(blocks) block(s) from '\(tuner.cutName)' (\(tuner.cutDimensions)); "
            + "the frozen part runs on \(views) views of \(job.train.count) images")
        var random = SeededRandom(seed: job.seed ^ 0x5eed)
        var cached: [[Float]] = []
        for v in 0..<views {
            // Every rank places every image's view, so all follow one random sequence.
            let placements = (0..<job.train.count).map { _ in
                ViewPlacement.view(v, random: &random)
            }
            var activations: [Float] = []
            activations.reserveCapacity(held.count * tuner.cutCount)
            for start in stride(from: held.lowerBound, to: held.upperBound, by: Backbone.batchSize) {
                let end = min(held.upperBound, start + Backbone.batchSize)
                let images = Parallel.map(count: end - start, threads: job.threads, chunksPerThread: 2) {
                    backbone.spec.input(for: job.train.image(at: start + $0), placement: placements[start + $0])
                }
                activations += try frozen.run(images: Array(images.joined()), batch: end - start)
            }
            cached.append(activations)
            try job.progress("view \(v + 1)/\(views) of the frozen part done")
        }
        // The head as ONNXFineTuner takes it: D×C weights (ClassifierHead keeps C×D) and the bias.
        let (d, c) = (head.inputs, head.classes)
        var weights = [Float](repeating: 0, count: d * c)
        for k in 0..<c { for i in 0..<d { weights[i * c + k] = head.parameters[k * d + i] } }
        let bias = Array(head.parameters[(c * d)..<(c * d + c)])
        var history = TrainingHistory()
        let trained = try tuner.train(views: cached, labels: job.train.labels.map(Int.init), head: (weights, bias),
                                      standardization: (standardization.mean, standardization.scale),
                                      options: options,
                                      share: communicator.size > 1
                                          ? FineTuningShare(images: held) { try communicator.allreduceSum(&$0) } : nil) { epoch in
            history.epochs.append(EpochRecord(epoch: epoch.epoch, trainLoss: epoch.loss, trainAccuracy: epoch.accuracy,
                                              learningRate: Double(options.learningRate), elapsedSeconds: epoch.seconds,
                                              imagesPerSecond: Double(job.train.count) / max(epoch.seconds, 1e-9)))
            try? job.progress(String(format: "fine-tune epoch %d/%d: loss %.4f, training accuracy %.1f%%", epoch.epoch,
                                     options.epochs, epoch.loss, 100 * epoch.accuracy))
        }
        var tunedHead = head
        for k in 0..<c { for i in 0..<d { tunedHead.parameters[k * d + i] = trained.weights[i * c + k] } }
        for k in 0..<c { tunedHead.parameters[c * d + k] = trained.bias[k] }
        var spec = backbone.spec
        spec.sha256 = ""   // the tuned graph's own checksum is recorded when it is loaded
        spec.name += "-fine-tuned"
        let tuned = try Backbone.onnx(try tuner.tunedModel(), spec: spec, origin: nil, threads: job.threads)
        return (tuned, standardization, tunedHead, history)
    }
}

/// Where a view's crop sits in the resized image (fractions of the free room) and whether it is mirrored.
struct ViewPlacement: Sendable {
    var x: Float = 0.5, y: Float = 0.5
    var mirrored = false

    /// View 0 is the centre crop, view 1 its mirror image, later views random crops mirrored at random.
    static func view(_ index: Int, random: inout SeededRandom) -> ViewPlacement {
        switch index {
        case 0: return ViewPlacement()
        case 1: return ViewPlacement(mirrored: true)
        default:
            return ViewPlacement(x: random.nextUnitFloat(), y: random.nextUnitFloat(), mirrored: random.next() % 2 == 0)
        }
    }
}

extension BackboneSpec {
    /// One image as the backbone's input under `placement`: resized as `fitted` does (shorter side
    /// to `resizeTo`; squashed to `resizeTo`² for the other modes), the `inputSize` crop placed
    /// in the room left, mirrored if asked, then normalised.
    func input(for image: Image, placement: ViewPlacement) -> [Float] {
        let resized: Image
        if resize == .shorterCrop {
            let shorter = max(1, min(image.width, image.height))
            let scale = Double(resizeTo) / Double(shorter)
            resized = image.resized(to: ImageSize(width: max(inputSize, Int((Double(image.width) * scale).rounded())),
                                                  height: max(inputSize, Int((Double(image.height) * scale).rounded()))),
                                    mode: .squash)
        } else {
            let side = max(inputSize, resizeTo)
            resized = image.resized(to: ImageSize(width: side, height: side), mode: resize == .squash ? .squash : .centerCrop)
        }
        let x = Int((Float(resized.width - inputSize) * placement.x).rounded())
        let y = Int((Float(resized.height - inputSize) * placement.y).rounded())
        var crop = resized.cropped(x: x, y: y, size: inputSize)
        if placement.mirrored { crop = crop.mirrored() }
        var input = [Float](repeating: 0, count: crop.pixels.count)
        for i in 0..<crop.pixels.count { input[i] = (Float(crop.pixels[i]) - mean[i % 3]) / std[i % 3] }
        return input
    }
}

extension Image {
    /// The image flipped left to right (RGB).
    func mirrored() -> Image {
        var pixels = self.pixels
        for row in 0..<height {
            for column in 0..<width {
                for channel in 0..<3 { pixels[(row * width + column) * 3 + channel] = self.pixels[(row * width + width - 1 - column) * 3 + channel] }
            }
        }
        return Image(width: width, height: height, pixels: pixels)
    }
}
