import PerceptImage

/// A contact sheet: images laid out in rows, each enlarged by an integer factor (nearest
/// neighbour, so 32×32 pixels stay crisp) and framed by an optional coloured border —
/// green for right, red for wrong in prediction grids, as the lecture's slides show.
public struct ImageGrid {
    public struct Cell {
        public var image: Image
        /// Border colour, or nil for the background colour.
        public var border: (UInt8, UInt8, UInt8)?

        public init(image: Image, border: (UInt8, UInt8, UInt8)? = nil) {
            self.image = image
            self.border = border
        }
    }

    public static let right: (UInt8, UInt8, UInt8) = (40, 170, 70)
    public static let wrong: (UInt8, UInt8, UInt8) = (210, 40, 40)

    public var columns: Int
    /// Each pixel becomes `scale × scale` pixels.
    public var scale: Int
    public var borderWidth: Int
    public var spacing: Int
    public var background: (UInt8, UInt8, UInt8)

    public init(columns: Int, scale: Int = 2, borderWidth: Int = 2, spacing: Int = 2,
                background: (UInt8, UInt8, UInt8) = (255, 255, 255)) {
        self.columns = max(1, columns)
        self.scale = max(1, scale)
        self.borderWidth = max(0, borderWidth)
        self.spacing = max(0, spacing)
        self.background = background
    }

    /// Renders the cells; every cell is drawn in a slot as large as the largest image.
    public func render(_ cells: [Cell]) -> Image {
        let cellWidth = (cells.map(\.image.width).max() ?? 0) * scale + 2 * borderWidth
        let cellHeight = (cells.map(\.image.height).max() ?? 0) * scale + 2 * borderWidth
        let rows = (cells.count + columns - 1) / columns
        let usedColumns = min(columns, cells.count)
        let width = max(1, usedColumns * (cellWidth + spacing) + spacing)
        let height = max(1, rows * (cellHeight + spacing) + spacing)
        var canvas = Image(width: width, height: height, fill: background)
        for (index, cell) in cells.enumerated() {
            let left = spacing + (index % columns) * (cellWidth + spacing)
            let top = spacing + (index / columns) * (cellHeight + spacing)
            if let border = cell.border {
                fill(&canvas, x: left, y: top, width: cell.image.width * scale + 2 * borderWidth,
                     height: cell.image.height * scale + 2 * borderWidth, color: border)
            }
            for y in 0..<(cell.image.height * scale) {
                for x in 0..<(cell.image.width * scale) {
                    canvas[left + borderWidth + x, top + borderWidth + y] = cell.image[x / scale, y / scale]
                }
            }
        }
        return canvas
    }

    private func fill(_ canvas: inout Image, x: Int, y: Int, width: Int, height: Int, color: (UInt8, UInt8, UInt8)) {
        for row in y..<(y + height) {
            for column in x..<(x + width) { canvas[column, row] = (color.0, color.1, color.2) }
        }
    }
}
