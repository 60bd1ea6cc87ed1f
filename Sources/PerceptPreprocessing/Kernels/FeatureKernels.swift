import PerceptCore
import PerceptData

// The row loop of feature extraction: every worker reads its images in place from the
// dataset's pixel storage (perhaps a memory map) and writes its own rows of the N×D output.

extension ImageFeatures {
    /// The D features of each of `dataset`'s `items`, row after row (N×D), on `threads` workers.
    /// `items` must be valid indices and `dimension` this value's D for the dataset's size.
    func featureRows(of dataset: Dataset, items: [Int], dimension d: Int, threads: Int?) -> [Float] {
        var scalars = [Float](repeating: 0, count: items.count * d)
        let h = dataset.height, w = dataset.width, c = dataset.channels
        scalars.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let output = buffer
            dataset.withPixelBytes { _ in
                Parallel.forEachChunk(count: items.count, threads: threads, minimumChunk: 16, chunksPerThread: 4) { range in
                    for row in range {
                        let image = dataset.pixels(at: items[row])
                        let base = row * d
                        switch self {
                        case .pixels:
                            for k in 0..<d { output[base + k] = Float(image[k]) * (1 / 255) }
                        case .hogColor(let hog, let hue):
                            let gradients = hog.features(of: image, height: h, width: w, channels: c)
                            let colours = hue.features(of: image, height: h, width: w, channels: c)
                            for (k, value) in gradients.enumerated() { output[base + k] = value }
                            for (k, value) in colours.enumerated() { output[base + gradients.count + k] = value }
                        }
                    }
                }
            }
        }
        return scalars
    }
}
