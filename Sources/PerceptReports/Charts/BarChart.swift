/// Horizontal bars with their labels and values, e.g. images per label — the AutoML label
/// statistics, with bars below a threshold (too few images) drawn in a warning colour.
public struct BarChart {
    public var title: String
    public var bars: [(label: String, value: Int)]
    /// Bars below this value are drawn in the warning colour (nil: none).
    public var warnBelow: Int?

    public init(title: String, bars: [(label: String, value: Int)], warnBelow: Int? = nil) {
        self.title = title
        self.bars = bars
        self.warnBelow = warnBelow
    }

    public func svg() -> String {
        let barHeight = 18.0, gap = 6.0, top = 30.0, barArea = 420.0
        let labelWidth = Double(min(40, bars.map(\.label.count).max() ?? 4)) * 7.5 + 10
        let width = Int(labelWidth + barArea + 70)
        let height = Int(top + Double(bars.count) * (barHeight + gap) + 10)
        var document = SVGDocument(width: width, height: height)
        document.rect(x: 0, y: 0, width: Double(width), height: Double(height), fill: RGB(255, 255, 255))
        document.text(title, x: 8, y: 18, size: 14, anchor: "start", weight: "bold")
        let largest = Double(max(1, bars.map(\.value).max() ?? 1))
        for (index, bar) in bars.enumerated() {
            let y = top + Double(index) * (barHeight + gap)
            let length = barArea * Double(bar.value) / largest
            let warn = warnBelow.map { bar.value < $0 } ?? false
            document.text(String(bar.label.prefix(40)), x: labelWidth - 6, y: y + 13, size: 12, anchor: "end")
            document.rect(x: labelWidth, y: y, width: max(1, length), height: barHeight,
                          fill: warn ? RGB(230, 140, 30) : RGB(70, 120, 190))
            document.text(String(bar.value), x: labelWidth + length + 5, y: y + 13, size: 12, anchor: "start")
        }
        return document.finished()
    }
}
