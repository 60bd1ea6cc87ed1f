import PerceptCore
import PerceptData

/// What a model sees of an image: its pixels, or classic hand-made features.
///
/// A model stores the value it was trained with, so `scores(for:)` extracts exactly the same
/// features at prediction. Shape letters: N images, D features per image.
public enum ImageFeatures: Sendable, Codable, Equatable {
    /// The H·W·C pixel values scaled to 0…1, in the dataset's byte order.
    case pixels
    /// A histogram of oriented gradients followed by a hue histogram, concatenated.
    case hogColor(hog: HistogramOfOrientedGradients, hue: HueHistogram)

    /// HOG with 8-pixel cells, 9 bins and 2×2 block normalisation, and 10 hue bins.
    public static let standardHOGColor = ImageFeatures.hogColor(hog: HistogramOfOrientedGradients(), hue: HueHistogram())

    /// The command-line name: "pixels" or "hog-color".
    public var name: String {
        switch self {
        case .pixels: "pixels"
        case .hogColor: "hog-color"
        }
    }

    /// Parses a command-line name ("pixels", "hog-color"), with the standard settings.
    public init(name: String) throws {
        switch name.lowercased() {
        case "pixels", "pixel", "raw": self = .pixels
        case "hog-color", "hog-colour", "hog": self = .standardHOGColor
        default: throw PerceptError.invalidArgument("unknown features '\(name)'; use pixels or hog-color")
        }
    }

    /// True for features laid out as H×W×C pixels (channel standardisation and templates apply).
    public var isPixels: Bool { self == .pixels }

    /// D for images of this size.
    public func dimension(height: Int, width: Int, channels: Int) -> Int {
        switch self {
        case .pixels: height * width * channels
        case .hogColor(let hog, let hue): hog.dimension(height: height, width: width) + hue.bins
        }
    }

    /// The N×D features of `dataset`'s items in `order` (default: all, in order), on every core
    /// (`threads` workers; the values do not depend on it).
    public func extract(from dataset: Dataset, order: [Int]? = nil, threads: Int? = nil) throws -> Tensor {
        let items = order ?? Array(0..<dataset.count)
        let d = dimension(height: dataset.height, width: dataset.width, channels: dataset.channels)
        var hasCells = true
        if case .hogColor(let hog, _) = self { hasCells = hog.dimension(height: dataset.height, width: dataset.width) > 0 }
        guard d > 0, hasCells else {
            throw PerceptError.invalidData(
                "\(name) features of \(dataset.width)x\(dataset.height) images are empty (images smaller than two HOG cells?)")
        }
        if let bad = items.first(where: { $0 < 0 || $0 >= dataset.count }) {
            throw PerceptError.invalidArgument("item \(bad) is outside the dataset's \(dataset.count) items")
        }
        let scalars = featureRows(of: dataset, items: items, dimension: d, threads: threads)
        return Tensor(shape: [items.count, d], scalars: scalars)
    }
}
