/// A colour histogram over hue (the H of HSV): what share of an image's pixels is red, orange,
/// yellow, … regardless of brightness and of where they are.
///
/// Hue is the angle on the colour wheel, 0…1 (0 red, ⅓ green, ⅔ blue), cut into `bins` equal
/// bins. Grey pixels (max = min channel) have no hue and are not counted; each bin holds its
/// pixel count divided by the image's pixel count, so the bins sum to at most 1.
/// The pixel-reading `features(of:…)` and its reference twin are in `Kernels/HueKernels.swift`.
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
}
