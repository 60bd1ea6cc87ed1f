import PerceptCore

/// Turns UInt8 H×W×C images into one normalised NHWC Float batch, applying each image's transform.
public enum BatchAssembly {
    /// Reflects an index that fell off either end of 0..<size back inside (…, 2, 1, | 0, 1, …, n−1 | n−2, …).
    @inline(__always)
    public static func reflect(_ i: Int, _ size: Int) -> Int {
        var i = i
        if i < 0 { i = -i }
        if i >= size { i = 2 * size - 2 - i }
        return min(max(i, 0), size - 1)
    }

    /// Writes image `sources[k]` of `pixels` (each H·W·C bytes) into slot k of `output` (N×H×W×C).
    public static func assemble(pixels: UnsafeRawBufferPointer, height: Int, width: Int, channels: Int,
                                sources: [Int], transforms: [ImageTransform], normalization: Normalization,
                                output: UnsafeMutablePointer<Float>, threads: Int) {
        precondition(sources.count == transforms.count, "one transform per image")
        precondition(normalization.mean.count == channels && normalization.std.count == channels,
                     "normalisation has \(normalization.mean.count) channels, images \(channels)")
        let imageBytes = height * width * channels
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * channels) { table in
            let scale = table.baseAddress!, offset = scale + channels
            for c in 0..<channels {
                scale[c] = 1 / (255 * normalization.std[c])
                offset[c] = -normalization.mean[c] / normalization.std[c]
            }
            let base = pixels.baseAddress!.assumingMemoryBound(to: UInt8.self)
            Parallel.forEachChunk(count: sources.count, threads: threads, minimumChunk: 32) { range in
                for k in range {
                    let t = transforms[k]
                    let image = base + sources[k] * imageBytes
                    let out = output + k * imageBytes
                    for y in 0..<height {
                        let sy = reflect(y + t.dy, height)
                        for x in 0..<width {
                            let sx0 = reflect(x + t.dx, width)
                            let sx = t.flip ? width - 1 - sx0 : sx0
                            let from = image + (sy * width + sx) * channels
                            let to = out + (y * width + x) * channels
                            for c in 0..<channels { to[c] = Float(from[c]) * scale[c] + offset[c] }
                        }
                    }
                    if t.cutoutSize > 0 {
                        for y in max(0, t.cutoutY)..<min(height, t.cutoutY + t.cutoutSize) {
                            for x in max(0, t.cutoutX)..<min(width, t.cutoutX + t.cutoutSize) {
                                (out + (y * width + x) * channels).update(repeating: 0, count: channels)
                            }
                        }
                    }
                }
            }
        }
    }
}
