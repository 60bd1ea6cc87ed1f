import PerceptCore
import PerceptImage
import PerceptModels
import PerceptModelKit

/// The lecture's visual view of a linear classifier: each row of W reshaped to H×W×C, its
/// values rescaled to 0…255 (per template: its minimum becomes black, its maximum white), one
/// enlarged, labelled tile per class.
public struct TemplateGrid: Sendable {
    /// Each pixel becomes `scale × scale` pixels.
    public var scale: Int
    /// Tiles per row.
    public var columns: Int

    public init(scale: Int = 4, columns: Int = 10) {
        self.scale = max(1, scale)
        self.columns = max(1, columns)
    }

    /// A template (H×W×C, any range) as an RGB image: rescaled to 0…255; one channel becomes grey.
    public static func image(of template: Tensor) throws -> Image {
        guard template.rank == 3, template.shape[2] == 1 || template.shape[2] == 3 else {
            throw PerceptError.invalidArgument("a template must be H×W×1 or H×W×3, got \(template.shape)")
        }
        let (h, w, c) = (template.shape[0], template.shape[1], template.shape[2])
        let low = template.scalars.min() ?? 0, high = template.scalars.max() ?? 0
        let factor: Float = high > low ? 255 / (high - low) : 0
        var pixels = [UInt8](repeating: 0, count: h * w * 3)
        for i in 0..<(h * w) {
            for k in 0..<3 {
                let value = template.scalars[i * c + (c == 3 ? k : 0)]
                pixels[i * 3 + k] = UInt8(max(0, min(255, ((value - low) * factor).rounded())))
            }
        }
        return Image(width: w, height: h, pixels: pixels)
    }

    /// One labelled tile per template.
    public func render(templates: [Tensor], labels: [String]) throws -> Image {
        guard templates.count == labels.count, !templates.isEmpty else {
            throw PerceptError.invalidArgument("\(templates.count) templates but \(labels.count) labels")
        }
        let images = try templates.map(Self.image(of:))
        let tileWidth = (images.map(\.width).max() ?? 0) * scale, tileHeight = (images.map(\.height).max() ?? 0) * scale
        let labelHeight = 14, gap = 8
        let slotWidth = max(tileWidth, (labels.map { Raster.textWidth($0) }.max() ?? 0)) + gap
        let rows = (images.count + columns - 1) / columns
        let width = min(columns, images.count) * slotWidth + gap, height = rows * (tileHeight + labelHeight + gap) + gap
        var canvas = Raster(width: width, height: height, background: RGB(255, 255, 255))
        for (index, image) in images.enumerated() {
            let left = gap + (index % columns) * slotWidth + (slotWidth - gap - tileWidth) / 2
            let top = gap + (index / columns) * (tileHeight + labelHeight + gap)
            for y in 0..<(image.height * scale) {
                for x in 0..<(image.width * scale) {
                    let pixel = image[x / scale, y / scale]
                    canvas.set(left + x, top + y, RGB(pixel.r, pixel.g, pixel.b))
                }
            }
            let label = labels[index]
            canvas.text(label, x: gap + (index % columns) * slotWidth + (slotWidth - gap - Raster.textWidth(label)) / 2,
                        y: top + tileHeight + 4, color: RGB(20, 20, 20))
        }
        return canvas.image
    }

    /// The templates of a linear classifier fitted on pixel features, labelled with its class names.
    public func render(_ model: LinearClassifier) throws -> Image {
        try render(templates: model.classNames.indices.map { try model.template(of: $0) }, labels: model.classNames)
    }
}
