// The hue histogram's pixel-reading entry point: one image's bytes, read in place, and its
// plain reference twin (the test oracle).

extension HueHistogram {
    /// The histogram of one H×W×3 image (other channel counts give all zeros).
    public func features(of pixels: UnsafeRawBufferPointer, height: Int, width: Int, channels: Int) -> [Float] {
        var histogram = [Float](repeating: 0, count: bins)
        guard channels == 3, bins > 0 else { return histogram }
        let count = height * width
        precondition(pixels.count >= 3 * count, "hue histogram: \(pixels.count) bytes for a \(width)x\(height) RGB image")
        for i in 0..<count {
            guard let hue = Self.hue(pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]) else { continue }
            histogram[min(bins - 1, Int(hue * Float(bins)))] += 1
        }
        let scale = 1 / Float(max(1, count))
        return histogram.map { $0 * scale }
    }

    /// Reference twin of `features(of:…)` (the test oracle): the bin of every coloured pixel
    /// of an RGB byte array, then each bin's share of all the pixels.
    func featuresReference(of pixels: [UInt8], channels: Int) -> [Float] {
        guard channels == 3, bins > 0 else { return [Float](repeating: 0, count: bins) }
        let pixelCount = pixels.count / 3
        let binOfEachColouredPixel = (0..<pixelCount).compactMap { pixel in
            Self.hue(pixels[3 * pixel], pixels[3 * pixel + 1], pixels[3 * pixel + 2]).map { min(bins - 1, Int($0 * Float(bins))) }
        }
        return (0..<bins).map { bin in
            Float(binOfEachColouredPixel.filter { $0 == bin }.count) * (1 / Float(max(1, pixelCount)))
        }
    }
}
