import Foundation
import PerceptCore
import PerceptImage

/// A labelled matrix drawn as coloured cells with each value written inside: validation
/// accuracy over learning rate × regularisation, or a confusion matrix (true × predicted class).
///
/// Rows run top to bottom, columns left to right. Missing values (nil) are blank cells. The colour
/// runs from pale to dark blue over `range` (default: the smallest to the largest value); text on
/// dark cells is white. `highlighted` cells (the best setting, a confusion matrix's diagonal) get
/// a thick outline. `svg()` and `render()` (PNG) share one layout.
public struct Heatmap: Sendable {
    /// How a cell's value is written.
    public enum ValueFormat: Sendable, Equatable {
        /// 0.412 → "41.2%" with this many decimals.
        case percent(decimals: Int)
        /// Fixed decimals: 0.412 → "0.41" for 2.
        case decimal(Int)
        /// Whole numbers (counts).
        case integer
    }

    public var title: String
    /// What the rows are (e.g. "learning rate", "true class").
    public var rowTitle: String
    /// What the columns are (e.g. "regularization", "predicted class").
    public var columnTitle: String
    public var rowLabels: [String]
    public var columnLabels: [String]
    /// rows × columns values; nil leaves a cell blank.
    public var values: [[Double?]]
    public var format: ValueFormat
    /// The values mapped to the palest and darkest colours (nil: the data's extremes).
    public var range: ClosedRange<Double>?
    /// Cells drawn with a thick outline, as (row, column).
    public var highlighted: [(row: Int, column: Int)]
    public var cellWidth: Int
    public var cellHeight: Int

    /// - Throws: `.invalidArgument` when `values` is not `rowLabels.count` × `columnLabels.count`.
    public init(title: String, rowTitle: String, columnTitle: String, rowLabels: [String], columnLabels: [String],
                values: [[Double?]], format: ValueFormat = .percent(decimals: 1), range: ClosedRange<Double>? = nil,
                highlighted: [(row: Int, column: Int)] = [], cellWidth: Int = 64, cellHeight: Int = 32) throws {
        guard values.count == rowLabels.count, values.allSatisfy({ $0.count == columnLabels.count }) else {
            throw PerceptError.invalidArgument(
                "a heatmap with \(rowLabels.count) row and \(columnLabels.count) column labels needs that many values; "
                + "got \(values.count) rows of \(values.map(\.count))")
        }
        self.title = title
        self.rowTitle = rowTitle
        self.columnTitle = columnTitle
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.values = values
        self.format = format
        self.range = range
        self.highlighted = highlighted
        self.cellWidth = max(24, cellWidth)
        self.cellHeight = max(14, cellHeight)
    }

    /// The text written in a cell.
    public func text(_ value: Double) -> String {
        switch format {
        case .percent(let decimals): String(format: "%.\(max(0, decimals))f%%", value * 100)
        case .decimal(let decimals): String(format: "%.\(max(0, decimals))f", value)
        case .integer: String(Int(value.rounded()))
        }
    }

    /// The cell colour for `value`: pale (t = 0) to dark blue (t = 1).
    public func color(_ value: Double) -> RGB {
        let finite = values.flatMap { $0 }.compactMap { $0 }.filter(\.isFinite)
        let low = range?.lowerBound ?? finite.min() ?? 0, high = range?.upperBound ?? finite.max() ?? 1
        let t = high > low ? min(1, max(0, (value - low) / (high - low))) : 0.5
        return RGB(247, 251, 255).mixed(with: RGB(8, 48, 107), t)
    }

    /// Dark cells get white text.
    func textColor(on fill: RGB) -> RGB {
        0.299 * Double(fill.r) + 0.587 * Double(fill.g) + 0.114 * Double(fill.b) < 128 ? RGB(255, 255, 255) : RGB(20, 20, 20)
    }

    /// Where things go, shared by SVG and PNG.
    struct Layout {
        let left: Int, top: Int, width: Int, height: Int

        init(_ map: Heatmap) {
            let labelWidth = (map.rowLabels.map(\.count).max() ?? 0) * 7 + 16
            left = 40 + labelWidth
            top = 74
            width = left + map.columnLabels.count * map.cellWidth + 24
            height = top + map.rowLabels.count * map.cellHeight + 24
        }

        func cell(_ row: Int, _ column: Int, _ map: Heatmap) -> (x: Int, y: Int) {
            (left + column * map.cellWidth, top + row * map.cellHeight)
        }
    }

    public func svg() -> String {
        let layout = Layout(self)
        var svg = SVGDocument(width: layout.width, height: layout.height)
        svg.rect(x: 0, y: 0, width: Double(layout.width), height: Double(layout.height), fill: RGB(255, 255, 255))
        svg.text(title, x: Double(layout.width) / 2, y: 22, size: 15, anchor: "middle", weight: "bold")
        let gridMiddleX = Double(layout.left) + Double(columnLabels.count * cellWidth) / 2
        let gridMiddleY = Double(layout.top) + Double(rowLabels.count * cellHeight) / 2
        svg.text(columnTitle, x: gridMiddleX, y: 46, size: 13, anchor: "middle")
        svg.text(rowTitle, x: 18, y: gridMiddleY, size: 13, anchor: "middle",
                 transform: "rotate(-90 18 \(SVGDocument.number(gridMiddleY)))")
        for (column, label) in columnLabels.enumerated() {
            let x = Double(layout.left + column * cellWidth) + Double(cellWidth) / 2
            svg.text(label, x: x, y: Double(layout.top) - 8, size: 11, anchor: "middle")
        }
        for (row, label) in rowLabels.enumerated() {
            svg.text(label, x: Double(layout.left) - 8, y: Double(layout.top + row * cellHeight) + Double(cellHeight) / 2 + 4,
                     size: 11, anchor: "end")
            for column in columnLabels.indices {
                let (x, y) = layout.cell(row, column, self)
                guard let value = values[row][column] else { continue }
                let fill = value.isFinite ? color(value) : RGB(230, 230, 230)
                svg.element("rect", [("class", "cell"), ("x", String(x)), ("y", String(y)), ("width", String(cellWidth)),
                                     ("height", String(cellHeight)), ("fill", fill.hex), ("stroke", "#ffffff")])
                svg.text(value.isFinite ? text(value) : "–", x: Double(x) + Double(cellWidth) / 2,
                         y: Double(y) + Double(cellHeight) / 2 + 4, size: 11, anchor: "middle", fill: textColor(on: fill))
            }
        }
        for (row, column) in highlighted where rowLabels.indices.contains(row) && columnLabels.indices.contains(column) {
            let (x, y) = layout.cell(row, column, self)
            svg.element("rect", [("class", "highlight"), ("x", String(x + 1)), ("y", String(y + 1)),
                                 ("width", String(cellWidth - 2)), ("height", String(cellHeight - 2)), ("fill", "none"),
                                 ("stroke", RGB(214, 39, 40).hex), ("stroke-width", "3")])
        }
        return svg.finished()
    }

    /// The heatmap drawn into an image with the built-in bitmap font.
    public func render() -> Image {
        let layout = Layout(self)
        var canvas = Raster(width: layout.width, height: layout.height, background: RGB(255, 255, 255))
        let ink = RGB(40, 40, 40)
        canvas.text(title, x: (layout.width - Raster.textWidth(title)) / 2, y: 10, color: RGB(0, 0, 0))
        let gridMiddleX = layout.left + columnLabels.count * cellWidth / 2
        canvas.text(columnTitle, x: gridMiddleX - Raster.textWidth(columnTitle) / 2, y: 38, color: ink)
        canvas.text(rowTitle, x: 8, y: layout.top - 26, color: ink)
        for (column, label) in columnLabels.enumerated() {
            let x = layout.left + column * cellWidth + cellWidth / 2
            canvas.text(label, x: x - Raster.textWidth(label) / 2, y: layout.top - 14, color: ink)
        }
        for (row, label) in rowLabels.enumerated() {
            canvas.text(label, x: layout.left - 8 - Raster.textWidth(label), y: layout.top + row * cellHeight + cellHeight / 2 - 3, color: ink)
            for column in columnLabels.indices {
                guard let value = values[row][column] else { continue }
                let (x, y) = layout.cell(row, column, self)
                let fill = value.isFinite ? color(value) : RGB(230, 230, 230)
                canvas.fill(x: x + 1, y: y + 1, width: cellWidth - 2, height: cellHeight - 2, color: fill)
                let label = value.isFinite ? text(value) : "-"
                canvas.text(label, x: x + (cellWidth - Raster.textWidth(label)) / 2, y: y + cellHeight / 2 - 3,
                            color: textColor(on: fill))
            }
        }
        for (row, column) in highlighted where rowLabels.indices.contains(row) && columnLabels.indices.contains(column) {
            let (x, y) = layout.cell(row, column, self)
            let red = RGB(214, 39, 40)
            for inset in 1...3 {
                let x0 = Double(x + inset), y0 = Double(y + inset)
                let x1 = Double(x + cellWidth - 1 - inset), y1 = Double(y + cellHeight - 1 - inset)
                canvas.line(x0, y0, x1, y0, color: red)
                canvas.line(x0, y1, x1, y1, color: red)
                canvas.line(x0, y0, x0, y1, color: red)
                canvas.line(x1, y0, x1, y1, color: red)
            }
        }
        return canvas.image
    }

    /// The rendered heatmap as PNG bytes.
    public func pngData() throws -> [UInt8] { try render().pngData() }
}

extension Raster {
    /// A filled rectangle, clipped to the image.
    mutating func fill(x: Int, y: Int, width: Int, height: Int, color: RGB) {
        guard width > 0, height > 0 else { return }
        for row in y..<(y + height) { for column in x..<(x + width) { set(column, row, color) } }
    }
}
