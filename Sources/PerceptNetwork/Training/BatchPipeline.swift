import Dispatch
import PerceptCore
import PerceptDistributed
import PerceptData
import PerceptPreprocessing

/// One minibatch: normalised NHWC images and their labels.
public final class Batch: @unchecked Sendable {
    public let images = FloatBuffer()
    public var labels: [Int32] = []
    public var count: Int { labels.count }
    /// Images in the whole global batch, over every rank (`count` for one process).
    public var globalCount = 0
}

/// Shuffled, augmented minibatches of a dataset, each prepared on a background thread while the
/// previous one trains (two batches in flight, reused: no allocation once both exist).
///
/// Deterministic for a seed: epoch e visits the items in the order of a shuffle drawn from stream
/// e of the seed, and the k-th image of the epoch is transformed with stream e·N + k of a second
/// seed, whatever the thread schedule. A last partial batch is dropped when `dropLast` is set.
///
/// In data-parallel training (`rank` of `ranks`) each rank prepares only its contiguous share of
/// every global batch (`Communicator.shard`); an image keeps the transform of its position in the
/// epoch, so the shards together are exactly the single-process batch.
public final class BatchPipeline: @unchecked Sendable {
    public let dataset: Dataset
    public let batchSize: Int
    public let augmentation: Augmentation
    public let normalization: Normalization
    public let seed: UInt64
    public let shuffle: Bool
    public let dropLast: Bool
    public var threads = 1
    /// This process's share of each batch in data-parallel training: rank `rank` of `ranks`.
    public var rank = 0, ranks = 1

    private let queue = DispatchQueue(label: "percept.batches")
    private let slots = [Batch(), Batch()]
    private var pending: DispatchGroup?
    private var order: [Int] = []
    private var epoch = -1
    private var nextBatch = 0

    public init(dataset: Dataset, batchSize: Int, augmentation: Augmentation, normalization: Normalization,
                seed: UInt64, shuffle: Bool = true, dropLast: Bool = true) {
        self.dataset = dataset
        self.batchSize = max(1, batchSize)
        self.augmentation = augmentation
        self.normalization = normalization
        self.seed = seed
        self.shuffle = shuffle
        self.dropLast = dropLast && dataset.count >= batchSize
    }

    /// Batches per epoch.
    public var batchesPerEpoch: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// Starts epoch `epoch` (0-based) and prepares its first batch in the background.
    public func start(epoch: Int) {
        wait()
        self.epoch = epoch
        if shuffle {
            var random = SeededRandom.stream(seed: seed, index: epoch)
            order = Array(0..<dataset.count).shuffled(using: &random)
        } else {
            order = Array(0..<dataset.count)
        }
        nextBatch = 0
        prepareInBackground(0)
    }

    /// The next batch of the epoch, or nil at its end. Valid until the call after next.
    public func next() -> Batch? {
        guard nextBatch < batchesPerEpoch else { return nil }
        wait()
        let batch = slots[nextBatch % 2]
        nextBatch += 1
        if nextBatch < batchesPerEpoch { prepareInBackground(nextBatch) }
        return batch
    }

    private func wait() {
        pending?.wait()
        pending = nil
    }

    private func prepareInBackground(_ index: Int) {
        let group = DispatchGroup()
        pending = group
        let slot = slots[index % 2]
        queue.async(group: group) { [self] in prepare(index, into: slot) }
    }

    /// Fills `batch` with batch `index` of the current epoch (also usable synchronously).
    func prepare(_ index: Int, into batch: Batch) {
        let globalStart = index * batchSize, globalEnd = min(dataset.count, globalStart + batchSize)
        let share = SingleProcess.shard(of: globalEnd - globalStart, rank: rank, size: ranks)
        let start = globalStart + share.lowerBound, end = globalStart + share.upperBound
        batch.globalCount = globalEnd - globalStart
        let members = Array(order[start..<end])
        let augmentSeed = seed ^ 0x5EED_A11C_E000_0001
        let transforms = (start..<end).map { position -> ImageTransform in
            guard augmentation != .none else { return .identity }
            var random = SeededRandom.stream(seed: augmentSeed, index: epoch &* dataset.count &+ position)
            var t = augmentation.transform(height: dataset.height, width: dataset.width, random: &random)
            if augmentation.flip && augmentation.alternatingFlip {
                t.flip = Augmentation.alternatingFlip(item: order[position], epoch: epoch, seed: seed)
            }
            return t
        }
        batch.labels.removeAll(keepingCapacity: true)
        for i in members { batch.labels.append(dataset.labels[i]) }
        batch.images.reserve(members.count * dataset.imageByteCount)
        dataset.withPixelBytes { bytes in
            BatchAssembly.assemble(pixels: bytes, height: dataset.height, width: dataset.width, channels: dataset.channels,
                                   sources: members, transforms: transforms, normalization: normalization,
                                   output: batch.images.pointer, threads: threads)
        }
    }

    deinit { pending?.wait() }
}
