import Foundation
import PerceptCore
import PerceptONNX

/// Turns preprocessed images into feature vectors: the frozen part of transfer learning.
///
/// Images come in as the backbone's spec prepares them (N × H × W × C floats, NHWC, normalised);
/// features go out as N × `featureCount` floats.
public protocol FeatureExtractor: Sendable {
    /// Floats per image in the output (1,280 for EfficientNet-Lite0's pooled features).
    var featureCount: Int { get }
    func features(images: [Float], batch: Int) throws -> [Float]
}

/// An ONNX graph run up to its feature node on Percept's engine (`ONNXSession`).
public struct ONNXFeatureExtractor: FeatureExtractor {
    public let session: ONNXSession
    public var featureCount: Int { session.outputCount }

    /// Compiles `model` to compute `featureNode` (nil: the input of the final `Gemm`/`MatMul`,
    /// the pooled features ImageNet classifiers read), checking the graph takes the spec's input.
    public init(model: ONNXModel, spec: BackboneSpec, threads: Int? = nil) throws {
        guard let node = spec.featureNode ?? model.classifierInput?.name else {
            throw PerceptError.unsupported(model.path, "the graph does not end in a Gemm or MatMul classifier, so its "
                + "feature vector is unknown; name it with --feature-node NAME (see `percept backbone inspect`)")
        }
        session = try ONNXSession(model: model, output: node, threads: threads ?? Parallel.defaultThreadCount)
        guard session.imageHeight == spec.inputSize, session.imageWidth == spec.inputSize, session.imageChannels == 3 else {
            throw PerceptError.unsupported(model.path, "the graph takes \(session.imageWidth)x\(session.imageHeight)x"
                + "\(session.imageChannels) images, but backbone '\(spec.name)' says \(spec.inputSize)x\(spec.inputSize)x3")
        }
    }

    public func features(images: [Float], batch: Int) throws -> [Float] {
        try session.run(images: images, batch: batch)
    }
}

/// The lecture's random-features baseline: each image average-pooled to 8×8×3, projected by a
/// fixed seeded Gaussian matrix to `featureCount` values, then ReLU. It shows what a head can do
/// with features nobody trained — and lets the transfer family be tested without any ONNX file.
public struct RandomFeatures: FeatureExtractor {
    /// The pooled grid's side: 8×8 cells of the input.
    static let grid = 8
    public let inputSize: Int
    public let featureCount: Int
    /// featureCount × (grid² · 3), row-major.
    let projection: [Float]

    public init(inputSize: Int, featureCount: Int = 256, seed: UInt64) {
        self.inputSize = inputSize
        self.featureCount = featureCount
        let pooled = Self.grid * Self.grid * 3
        var random = SeededRandom(seed: seed)
        let scale = 1 / Float(pooled).squareRoot()
        projection = (0..<(featureCount * pooled)).map { _ in random.nextGaussian() * scale }
    }

    public func features(images: [Float], batch: Int) throws -> [Float] {
        let side = inputSize, grid = Self.grid, pooledCount = grid * grid * 3
        guard images.count == batch * side * side * 3 else {
            throw PerceptError.invalidArgument("random features: \(images.count) floats are not \(batch) images of \(side)x\(side)x3")
        }
        var output = [Float](repeating: 0, count: batch * featureCount)
        for item in 0..<batch {
            var pooled = [Float](repeating: 0, count: pooledCount), counts = [Float](repeating: 0, count: grid * grid)
            let base = item * side * side * 3
            for y in 0..<side {
                for x in 0..<side {
                    let cell = (y * grid / side) * grid + x * grid / side
                    counts[cell] += 1
                    for c in 0..<3 { pooled[cell * 3 + c] += images[base + (y * side + x) * 3 + c] }
                }
            }
            for cell in 0..<(grid * grid) where counts[cell] > 0 {
                for c in 0..<3 { pooled[cell * 3 + c] /= counts[cell] }
            }
            for j in 0..<featureCount {
                var sum: Float = 0
                for i in 0..<pooledCount { sum += projection[j * pooledCount + i] * pooled[i] }
                output[item * featureCount + j] = max(0, sum)
            }
        }
        return output
    }
}
