/// Resizing: area averaging when an axis shrinks, bilinear interpolation when it grows.
///
/// Both are separable, so the image is resampled along x (into a Float buffer) and then along
/// y, each with per-output-pixel taps (first source index + weights) computed once per axis.
extension Image {
    /// The image resized to `size`.
    ///
    /// - Shrinking an axis averages the source pixels each output pixel covers, weighting partly
    ///   covered pixels by the covered fraction (a box filter; a 2× shrink is the mean of each 2×2 block).
    /// - Enlarging an axis interpolates bilinearly between pixel centres ("half-pixel" alignment, as
    ///   Pillow and OpenCV do), clamping at the borders.
    /// - `.centerCrop` first cuts the largest centred region with the target's aspect ratio;
    ///   `.squash` uses the whole image.
    ///
    /// Results are rounded to the nearest integer. The same size returns `self`.
    public func resized(to size: ImageSize, mode: ResizeMode) -> Image {
        if size == self.size { return self }
        let outWidth = max(0, size.width), outHeight = max(0, size.height)
        guard outWidth > 0, outHeight > 0, width > 0, height > 0 else {
            return Image(width: outWidth, height: outHeight)  // nothing to sample: black
        }
        let region = mode == .centerCrop ? centeredRegion(aspectWidth: outWidth, aspectHeight: outHeight)
                                         : (x: 0, y: 0, width: width, height: height)
        let columns = ResampleTaps(inputCount: region.width, inputOffset: region.x, outputCount: outWidth)
        let rows = ResampleTaps(inputCount: region.height, inputOffset: region.y, outputCount: outHeight)

        // Pass 1: resample along x every source row the region uses (rows region.y ..< region.y + height).
        let rowFloats = outWidth * 3
        var horizontal = [Float](repeating: 0, count: region.height * rowFloats)
        pixels.withUnsafeBufferPointer { source in
            horizontal.withUnsafeMutableBufferPointer { target in
                for r in 0..<region.height {
                    let sourceRow = (region.y + r) * width * 3
                    let targetRow = r * rowFloats
                    for x in 0..<outWidth {
                        var red: Float = 0, green: Float = 0, blue: Float = 0
                        let first = columns.firsts[x]
                        for t in 0..<columns.counts[x] {
                            let weight = columns.weights[x * columns.stride + t]
                            let i = sourceRow + (first + t) * 3
                            red += weight * Float(source[i])
                            green += weight * Float(source[i + 1])
                            blue += weight * Float(source[i + 2])
                        }
                        target[targetRow + 3 * x] = red
                        target[targetRow + 3 * x + 1] = green
                        target[targetRow + 3 * x + 2] = blue
                    }
                }
            }
        }

        // Pass 2: resample along y, accumulating whole rows (a contiguous, vectorisable loop).
        var accumulator = [Float](repeating: 0, count: rowFloats)
        let out = [UInt8](unsafeUninitializedCapacity: outHeight * rowFloats) { output, count in
            horizontal.withUnsafeBufferPointer { source in
                accumulator.withUnsafeMutableBufferPointer { sum in
                    for y in 0..<outHeight {
                        for i in 0..<rowFloats { sum[i] = 0 }
                        // Taps index the whole image; the horizontal buffer starts at region.y.
                        let first = rows.firsts[y] - region.y
                        for t in 0..<rows.counts[y] {
                            let weight = rows.weights[y * rows.stride + t]
                            let row = (first + t) * rowFloats
                            for i in 0..<rowFloats { sum[i] += weight * source[row + i] }
                        }
                        let outRow = y * rowFloats
                        for i in 0..<rowFloats {
                            output[outRow + i] = UInt8(min(255, max(0, sum[i] + 0.5)))
                        }
                    }
                }
            }
            count = outHeight * rowFloats
        }
        return Image(width: outWidth, height: outHeight, pixels: out)
    }

    /// Reference twin of `resized` (the test oracle): each output pixel is the Double sum over
    /// the 2-D grid of its row and column taps, one pixel at a time, no buffers.
    func resizedReference(to size: ImageSize, mode: ResizeMode) -> Image {
        if size == self.size { return self }
        let outWidth = max(0, size.width), outHeight = max(0, size.height)
        guard outWidth > 0, outHeight > 0, width > 0, height > 0 else { return Image(width: outWidth, height: outHeight) }
        let region = mode == .centerCrop ? centeredRegion(aspectWidth: outWidth, aspectHeight: outHeight)
                                         : (x: 0, y: 0, width: width, height: height)
        let columns = ResampleTaps(inputCount: region.width, inputOffset: region.x, outputCount: outWidth)
        let rows = ResampleTaps(inputCount: region.height, inputOffset: region.y, outputCount: outHeight)
        var out = [UInt8](repeating: 0, count: outWidth * outHeight * 3)
        for y in 0..<outHeight {
            for x in 0..<outWidth {
                for channel in 0..<3 {
                    var sum = 0.0
                    for r in 0..<rows.counts[y] {
                        for c in 0..<columns.counts[x] {
                            let weight = Double(rows.weights[y * rows.stride + r]) * Double(columns.weights[x * columns.stride + c])
                            sum += weight * Double(pixels[((rows.firsts[y] + r) * width + columns.firsts[x] + c) * 3 + channel])
                        }
                    }
                    out[(y * outWidth + x) * 3 + channel] = UInt8(min(255, max(0, sum + 0.5)))
                }
            }
        }
        return Image(width: outWidth, height: outHeight, pixels: out)
    }

    /// The largest centred region with aspect ratio `aspectWidth : aspectHeight`.
    func centeredRegion(aspectWidth: Int, aspectHeight: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        if width * aspectHeight > height * aspectWidth {  // too wide: trim left and right
            let cropWidth = min(width, max(1, Int((Double(height) * Double(aspectWidth) / Double(aspectHeight)).rounded())))
            return ((width - cropWidth) / 2, 0, cropWidth, height)
        } else if width * aspectHeight < height * aspectWidth {  // too tall: trim top and bottom
            let cropHeight = min(height, max(1, Int((Double(width) * Double(aspectHeight) / Double(aspectWidth)).rounded())))
            return (0, (height - cropHeight) / 2, width, cropHeight)
        }
        return (0, 0, width, height)
    }
}

/// For each output index along one axis: the first source index it reads, how many it reads,
/// and their weights (summing to 1), stored `stride` per output.
struct ResampleTaps {
    var firsts: [Int]
    var counts: [Int]
    var weights: [Float]
    var stride: Int

    /// Maps `inputCount` source pixels starting at `inputOffset` onto `outputCount` pixels.
    ///
    /// Written straight into the flat arrays, one pass for the spans and one for the weights: this
    /// runs once per axis per image, and per-output arrays cost more than the small images' resize itself.
    init(inputCount: Int, inputOffset: Int, outputCount: Int) {
        let scale = Double(inputCount) / Double(outputCount)
        let shrinking = inputCount > outputCount
        // Each output's first source index and tap count.
        var firsts = [Int](repeating: 0, count: outputCount)
        var counts = [Int](repeating: 1, count: outputCount)
        var fractions = [Double](repeating: 0, count: outputCount)  // bilinear: the second tap's weight
        for i in 0..<outputCount {
            if inputCount == outputCount {
                firsts[i] = i
            } else if shrinking {
                // Box filter: output i covers source interval [i·scale, (i+1)·scale).
                let first = Int((Double(i) * scale).rounded(.down))
                let last = min(inputCount - 1, Int((Double(i + 1) * scale).rounded(.up)) - 1)
                firsts[i] = first
                counts[i] = max(first, last) - first + 1
            } else {
                // Bilinear: output centre i + ½ maps to source coordinate (i + ½)·scale − ½.
                let centre = min(Double(inputCount - 1), max(0, (Double(i) + 0.5) * scale - 0.5))
                let first = min(inputCount - 1, Int(centre.rounded(.down)))
                firsts[i] = first
                if first + 1 < inputCount {
                    counts[i] = 2
                    fractions[i] = centre - Double(first)
                }
            }
        }
        let stride = counts.max() ?? 1
        var weights = [Float](repeating: 0, count: outputCount * stride)
        for i in 0..<outputCount {
            let base = i * stride
            if inputCount == outputCount {
                weights[base] = 1
            } else if shrinking {
                // Each source pixel weighs the fraction of it the interval covers, normalised to sum 1.
                let low = Double(i) * scale, high = Double(i + 1) * scale
                var total = 0.0
                for t in 0..<counts[i] {
                    let j = Double(firsts[i] + t)
                    total += max(0, min(high, j + 1) - max(low, j))
                }
                for t in 0..<counts[i] {
                    let j = Double(firsts[i] + t)
                    weights[base + t] = Float(max(0, min(high, j + 1) - max(low, j)) / total)
                }
            } else if counts[i] == 2 {
                weights[base] = Float(1 - fractions[i])
                weights[base + 1] = Float(fractions[i])
            } else {
                weights[base] = 1
            }
        }
        for i in 0..<outputCount { firsts[i] += inputOffset }
        self.firsts = firsts
        self.counts = counts
        self.weights = weights
        self.stride = stride
    }
}
