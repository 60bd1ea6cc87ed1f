import PerceptCore
import PerceptData
import PerceptPreprocessing

/// airbench's whitening stem (Jordan 2024, after Coates & Ng 2011): the first convolution's filters
/// are the eigenvectors of the training images' patch covariance, each divided by √(eigenvalue + ε),
/// in ± pairs. The layer then maps every k×k×C patch to decorrelated unit-variance components, so
/// the rest of the network starts on whitened input; the filters are never trained.
enum Whitening {
    /// Fills `conv`'s weights from up to `sampleCount` images of `dataset` spread evenly over it
    /// (datasets are often stored class by class, so the first images alone would be one class),
    /// normalised the way training batches are.
    static func initialize(_ conv: Conv2D, from dataset: Dataset, normalization: Normalization, sampleCount: Int = 5000,
                           epsilon: Double = 5e-4, threads: Int) throws {
        let g = conv.geometry
        let d = g.patchLength
        precondition(g.outChannels == 2 * d, "a whitening layer has 2·patch filters")
        let count = min(sampleCount, dataset.count)
        guard count >= 1 else { throw PerceptError.invalidData("whitening needs training images") }
        let sample = dataset.subset((0..<count).map { $0 * dataset.count / count })
        var covariance = [Double](repeating: 0, count: d * d)
        var patchCount = 0
        let pipeline = BatchPipeline(dataset: sample, batchSize: 256, augmentation: .none, normalization: normalization,
                                     seed: 0, shuffle: false, dropLast: false)
        pipeline.threads = threads
        let batch = Batch()
        var first = 0
        while first < count {
            let n = min(256, count - first)
            pipeline.assemble(first..<(first + n), transform: .identity, into: batch)
            // Valid positions only: the patches the layer will see without padding.
            patchCount += WhiteningKernels.accumulatePatchProducts(g, images: batch.images, count: n, into: &covariance)
            first += n
        }
        for i in 0..<d {
            for j in i..<d {
                covariance[i * d + j] /= Double(patchCount)
                covariance[j * d + i] = covariance[i * d + j]
            }
        }
        let (values, vectors) = try LAPACK.symmetricEigen(covariance, n: d)
        // Largest eigenvalue first, as airbench orders them; filter o reads weight[p · Cout + o].
        for rank in 0..<d {
            let j = d - 1 - rank
            let scale = 1 / (max(values[j], 0) + epsilon).squareRoot()
            for p in 0..<d {
                let w = Float(vectors[j * d + p] * scale)
                conv.weight.value[p * g.outChannels + rank] = w
                conv.weight.value[p * g.outChannels + d + rank] = -w
            }
        }
    }
}
