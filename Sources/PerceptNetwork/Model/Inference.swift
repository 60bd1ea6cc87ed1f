import PerceptCore
import PerceptData

/// Batched inference shared by the classifier and the trainer's validation.
enum Inference {
    /// Softmax probabilities for every image, in order (N×C), averaged over `views`.
    static func probabilities(_ network: Network, dataset: Dataset, normalization: Normalization, batchSize: Int,
                              views: TestTimeAugmentation, threads: Int) -> Tensor {
        let c = network.classCount
        var result = [Float](repeating: 0, count: dataset.count * c)
        let pipeline = BatchPipeline(dataset: dataset, batchSize: batchSize, augmentation: .none, normalization: normalization,
                                     seed: 0, shuffle: false, dropLast: false)
        pipeline.threads = threads
        let batch = Batch()
        for index in 0..<pipeline.batchesPerEpoch {
            let first = index * batchSize, n = min(batchSize, dataset.count - first)
            for (view, weight) in views.views {
                pipeline.assemble(first..<(first + n), transform: view, into: batch)
                let logits = network.forward(batch.images, batch: n, mode: .inference)
                Softmax.accumulate(logits, rows: n, classes: c, weight: weight, into: &result, offset: first * c)
            }
        }
        return Tensor(shape: [dataset.count, c], scalars: result)
    }
}

extension BatchPipeline {
    /// Fills `batch` with the given items in order, all with one transform (inference).
    func assemble(_ items: Range<Int>, transform: ImageTransform, into batch: Batch) {
        batch.labels = items.map { dataset.labels[$0] }
        batch.images.reserve(items.count * dataset.imageByteCount)
        dataset.withPixelBytes { bytes in
            BatchAssembly.assemble(pixels: bytes, height: dataset.height, width: dataset.width, channels: dataset.channels,
                                   sources: Array(items), transforms: Array(repeating: transform, count: items.count),
                                   normalization: normalization, output: batch.images.pointer, threads: threads)
        }
    }
}
