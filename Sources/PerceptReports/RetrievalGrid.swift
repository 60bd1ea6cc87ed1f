import PerceptImage

/// The lecture's nearest-neighbour picture: one row per query image, the query on the left,
/// then its nearest training images, nearest first, each framed green when its label is the
/// query's and red when it is not, with the label written underneath.
public struct RetrievalGrid {
    public struct Item {
        public var image: Image
        public var label: String

        public init(image: Image, label: String) {
            self.image = image
            self.label = label
        }
    }

    public struct Row {
        public var query: Item
        /// Nearest first.
        public var neighbors: [Item]

        public init(query: Item, neighbors: [Item]) {
            self.query = query
            self.neighbors = neighbors
        }
    }

    /// Each pixel becomes `scale × scale` pixels.
    public var scale: Int
    public var borderWidth = 2
    public var spacing = 4
    /// Extra space between the query column and its neighbours.
    public var queryGap = 10

    static let queryFrame = RGB(90, 90, 90)
    static let textColor = RGB(40, 40, 40)
    static let labelHeight = 10

    public init(scale: Int = 2) {
        self.scale = max(1, scale)
    }

    public func render(_ rows: [Row]) -> Image {
        let imageWidth = rows.flatMap { [$0.query] + $0.neighbors }.map(\.image.width).max() ?? 0
        let imageHeight = rows.flatMap { [$0.query] + $0.neighbors }.map(\.image.height).max() ?? 0
        let cellWidth = imageWidth * scale + 2 * borderWidth
        let cellHeight = imageHeight * scale + 2 * borderWidth + Self.labelHeight
        let columns = 1 + (rows.map(\.neighbors.count).max() ?? 0)
        let width = max(1, spacing + columns * (cellWidth + spacing) + queryGap)
        let height = max(1, spacing + rows.count * (cellHeight + spacing))
        var raster = Raster(width: width, height: height, background: RGB(255, 255, 255))
        for (rowIndex, row) in rows.enumerated() {
            let top = spacing + rowIndex * (cellHeight + spacing)
            draw(row.query, frame: Self.queryFrame, left: spacing, top: top, cellWidth: cellWidth, on: &raster)
            for (column, neighbor) in row.neighbors.enumerated() {
                let left = spacing + queryGap + (column + 1) * (cellWidth + spacing)
                let frame = neighbor.label == row.query.label ? RGB(40, 170, 70) : RGB(210, 40, 40)
                draw(neighbor, frame: frame, left: left, top: top, cellWidth: cellWidth, on: &raster)
            }
        }
        return raster.image
    }

    private func draw(_ item: Item, frame: RGB, left: Int, top: Int, cellWidth: Int, on raster: inout Raster) {
        let framedHeight = item.image.height * scale + 2 * borderWidth
        raster.framedImage(item.image, scale: scale, borderWidth: borderWidth, frame: frame, left: left, top: top)
        // As many characters as fit under the cell (6 pixels each).
        let label = String(item.label.prefix(max(1, (cellWidth + 1) / 6)))
        raster.text(label, x: left, y: top + framedHeight + 2, color: Self.textColor)
    }
}
