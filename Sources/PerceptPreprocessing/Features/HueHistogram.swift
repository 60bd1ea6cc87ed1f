/// A colour histogram over hue (the H of HSV): what share of an image's pixels is red, orange,
/// yellow, … regardless of brightness and of where they are.
///
/// Hue is the angle on the colour wheel, 0…1 (0 red, ⅓ green, ⅔ blue), cut into `bins` equal
/// bins. Grey pixels (max = min channel) have no hue and are not counted; each bin holds its
/// pixel count divided by the image's pixel count, so the bins sum to at most 1.
public struct HueHistogram: Sendable, Codable, Equatable {
    public var bins: Int

    public init(bins: Int = 10) {
        self.bins = bins
    }

    /// The hue of an RGB colour in 0..<1, or nil for a grey.
    public static func hue(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> Float? {
        let r = Float(r), g = Float(g), b = Float(b)
        let maximum = max(r, g, b), minimum = min(r, g, b)
        let chroma = maximum - minimum
        guard chroma > 0 else { return nil }
        var sixths: Float
        if maximum == r {
            sixths = (g - b) / chroma
            if sixths < 0 { sixths += 6 }
        } else if maximum == g {
            sixths = (b - r) / chroma + 2
        } else {
            sixths = (r - g) / chroma + 4
        }
        let hue = sixths / 6
        return hue >= 1 ? 0 : hue
    }

    /// The histogram of one H×W×3 image (other channel counts give all zeros).
    public func features(of pixels: UnsafeRawBufferPointer, height: Int, width: Int, channels: Int) -> [Float] {
        var histogram = [Float](repeating: 0, count: bins)
        guard channels == 3, bins > 0 else { return histogram }
        let count = height * width
        for i in 0..<count {
            guard let hue = Self.hue(pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]) else { continue }
            histogram[min(bins - 1, Int(hue * Float(bins)))] += 1
        }
        let scale = 1 / Float(max(1, count))
        return histogram.map { $0 * scale }
    }
}
