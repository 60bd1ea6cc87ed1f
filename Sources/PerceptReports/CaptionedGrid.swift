import PerceptImage

/// Images in rows, each enlarged, framed in a colour and captioned with a line or two of text
/// underneath — the "most confident mistakes" sheet (true label, predicted label, confidence).
public struct CaptionedGrid {
    public struct Cell {
        public var image: Image
        public var captions: [String]
        public var frame: RGB

        public init(image: Image, captions: [String], frame: RGB) {
            self.image = image
            self.captions = captions
            self.frame = frame
        }
    }

    public var columns: Int
    public var scale: Int
    public var borderWidth = 2
    public var spacing = 6
    static let lineHeight = 9

    public init(columns: Int = 8, scale: Int = 2) {
        self.columns = max(1, columns)
        self.scale = max(1, scale)
    }

    public func render(_ cells: [Cell]) -> Image {
        let imageWidth = cells.map(\.image.width).max() ?? 0, imageHeight = cells.map(\.image.height).max() ?? 0
        let longestCaption = cells.flatMap(\.captions).map { Raster.textWidth($0) }.max() ?? 0
        let cellWidth = max(imageWidth * scale + 2 * borderWidth, longestCaption)
        let lines = cells.map(\.captions.count).max() ?? 0
        let cellHeight = imageHeight * scale + 2 * borderWidth + 2 + lines * Self.lineHeight
        let usedColumns = min(columns, max(1, cells.count))
        let rows = (cells.count + columns - 1) / columns
        var raster = Raster(width: spacing + usedColumns * (cellWidth + spacing),
                            height: max(1, spacing + rows * (cellHeight + spacing)), background: RGB(255, 255, 255))
        for (index, cell) in cells.enumerated() {
            let left = spacing + (index % columns) * (cellWidth + spacing)
            let top = spacing + (index / columns) * (cellHeight + spacing)
            let framedHeight = cell.image.height * scale + 2 * borderWidth
            raster.framedImage(cell.image, scale: scale, borderWidth: borderWidth, frame: cell.frame, left: left, top: top)
            for (line, caption) in cell.captions.enumerated() {
                raster.text(caption, x: left, y: top + framedHeight + 2 + line * Self.lineHeight, color: RGB(40, 40, 40))
            }
        }
        return raster.image
    }
}
