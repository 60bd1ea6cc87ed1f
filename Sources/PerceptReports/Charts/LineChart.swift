import Foundation
import PerceptEvaluation

/// A line chart with scattered samples and error bars: the lecture's cross-validation figure
/// (x = k, y = accuracy, one dot per fold, a line through the means, ±1 standard deviation).
///
/// The chart is plain data; `svg()` writes it as SVG text and `render()` draws it into an
/// `Image` (see LineChart+Raster.swift) for a PNG. Both use the same layout (`ChartLayout`).
public struct LineChart: Sendable {
    /// One x position of a series: its samples (dots), their mean (on the line) and spread (bar).
    public struct Point: Sendable, Equatable {
        public var x: Double
        public var samples: [Double]
        public var mean: Double
        /// Half the error bar's height (e.g. one standard deviation); 0 draws no bar.
        public var spread: Double

        public init(x: Double, samples: [Double], mean: Double, spread: Double) {
            self.x = x
            self.samples = samples
            self.mean = mean
            self.spread = spread
        }
    }

    public struct Series: Sendable {
        public var name: String
        public var color: RGB
        public var points: [Point]

        public init(name: String, color: RGB, points: [Point]) {
            self.name = name
            self.color = color
            self.points = points
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    public var width: Int
    public var height: Int

    public init(title: String, xLabel: String, yLabel: String, series: [Series], width: Int = 720, height: Int = 440) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.width = max(200, width)
        self.height = max(150, height)
    }

    /// Distinct colours for up to six series (then they repeat).
    public static let palette: [RGB] = [RGB(31, 119, 180), RGB(214, 39, 40), RGB(44, 160, 44),
                                        RGB(255, 127, 14), RGB(148, 103, 189), RGB(140, 86, 75)]

    /// The lecture's figure for a cross-validation result: one series per metric.
    public init(crossValidation result: CrossValidationResult, width: Int = 720, height: Int = 440) {
        let series = result.metrics.enumerated().map { index, metric in
            Series(name: metric.rawValue.uppercased(), color: Self.palette[index % Self.palette.count],
                   points: result.settings.filter { $0.metric == metric }.map {
                       Point(x: Double($0.k), samples: $0.foldAccuracies, mean: $0.mean, spread: $0.standardDeviation)
                   })
        }
        let scheme = result.validationFraction.map { "validation split \(Int(($0 * 100).rounded()))%" }
            ?? "\(result.folds)-fold cross-validation"
        self.init(title: "k-NN accuracy by k, \(scheme)", xLabel: "k", yLabel: "accuracy", series: series,
                  width: width, height: height)
    }

    /// The chart as a standalone SVG document.
    public func svg() -> String {
        let layout = ChartLayout(self)
        var svg = SVGDocument(width: width, height: height)
        svg.rect(x: 0, y: 0, width: Double(width), height: Double(height), fill: RGB(255, 255, 255))
        svg.text(title, x: Double(width) / 2, y: 24, size: 16, anchor: "middle", weight: "bold")

        // Axes, ticks, grid lines and labels.
        let plot = layout.plot
        svg.line(x1: plot.minX, y1: plot.maxY, x2: plot.maxX, y2: plot.maxY, stroke: RGB(0, 0, 0), width: 1, className: "axis")
        svg.line(x1: plot.minX, y1: plot.minY, x2: plot.minX, y2: plot.maxY, stroke: RGB(0, 0, 0), width: 1, className: "axis")
        for tick in layout.xTicks {
            let x = layout.px(tick)
            svg.line(x1: x, y1: plot.maxY, x2: x, y2: plot.maxY + 5, stroke: RGB(0, 0, 0), width: 1, className: "tick")
            svg.text(ChartLayout.label(tick), x: x, y: plot.maxY + 19, size: 11, anchor: "middle")
        }
        for tick in layout.yTicks {
            let y = layout.py(tick)
            svg.line(x1: plot.minX, y1: y, x2: plot.maxX, y2: y, stroke: RGB(225, 225, 225), width: 1, className: "grid")
            svg.line(x1: plot.minX - 5, y1: y, x2: plot.minX, y2: y, stroke: RGB(0, 0, 0), width: 1, className: "tick")
            svg.text(ChartLayout.label(tick), x: plot.minX - 8, y: y + 4, size: 11, anchor: "end")
        }
        svg.text(xLabel, x: (plot.minX + plot.maxX) / 2, y: Double(height) - 14, size: 13, anchor: "middle")
        svg.text(yLabel, x: 18, y: (plot.minY + plot.maxY) / 2, size: 13, anchor: "middle",
                 transform: "rotate(-90 18 \(SVGDocument.number((plot.minY + plot.maxY) / 2)))")

        // Each series: error bars under the dots, the mean line on top.
        for line in series {
            svg.open("g", ["class": "series", "data-name": line.name])
            for point in line.points where point.spread > 0 {
                let x = layout.px(point.x), top = layout.py(point.mean + point.spread), bottom = layout.py(point.mean - point.spread)
                let cap = 4.0
                svg.path("M\(SVGDocument.number(x)) \(SVGDocument.number(top))V\(SVGDocument.number(bottom))"
                         + "M\(SVGDocument.number(x - cap)) \(SVGDocument.number(top))h\(SVGDocument.number(2 * cap))"
                         + "M\(SVGDocument.number(x - cap)) \(SVGDocument.number(bottom))h\(SVGDocument.number(2 * cap))",
                         stroke: line.color, width: 1.2, className: "error-bar")
            }
            for point in line.points {
                for sample in point.samples {
                    svg.circle(cx: layout.px(point.x), cy: layout.py(sample), r: 2.5, fill: line.color.mixed(with: RGB(255, 255, 255), 0.35),
                               className: "fold")
                }
            }
            svg.polyline(line.points.map { (layout.px($0.x), layout.py($0.mean)) }, stroke: line.color, width: 2,
                         className: "mean")
            svg.close("g")
        }

        // Legend, right of the plot.
        for (index, line) in series.enumerated() {
            let y = plot.minY + 10 + Double(index) * 20
            svg.line(x1: plot.maxX + 16, y1: y, x2: plot.maxX + 40, y2: y, stroke: line.color, width: 2, className: "legend")
            svg.text(line.name, x: plot.maxX + 46, y: y + 4, size: 12, anchor: "start")
        }
        return svg.finished()
    }
}

/// An sRGB colour.
public struct RGB: Sendable, Equatable {
    public var r: UInt8, g: UInt8, b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// `#rrggbb`, as SVG wants it.
    public var hex: String {
        "#" + [r, g, b].map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// This colour moved a fraction `t` (0…1) of the way toward `other`.
    public func mixed(with other: RGB, _ t: Double) -> RGB {
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8(max(0, min(255, (Double(a) + (Double(b) - Double(a)) * t).rounded()))) }
        return RGB(mix(r, other.r), mix(g, other.g), mix(b, other.b))
    }
}

/// Where things go: the plot rectangle, data → pixel mappings and tick values. Shared by the
/// SVG and the raster so both draw the same picture.
struct ChartLayout {
    struct Box { var minX, minY, maxX, maxY: Double }

    let plot: Box
    let xRange: ClosedRange<Double>
    let yRange: ClosedRange<Double>
    let xTicks: [Double]
    let yTicks: [Double]

    init(_ chart: LineChart) {
        plot = Box(minX: 70, minY: 44, maxX: Double(chart.width) - 110, maxY: Double(chart.height) - 52)
        let points = chart.series.flatMap(\.points)
        let xs = points.map(\.x).filter(\.isFinite)
        let ys = points.flatMap { $0.samples + [$0.mean - $0.spread, $0.mean + $0.spread] }.filter(\.isFinite)
        let xTicks = Self.ticks(xs.min() ?? 0, xs.max() ?? 1, count: 8)
        let yTicks = Self.ticks(ys.min() ?? 0, ys.max() ?? 1, count: 6)
        self.xTicks = xTicks
        self.yTicks = yTicks
        // Axes start at 0 on x when the data does (k ≥ 1 reads better from 0) and span the ticks.
        xRange = min(0, xTicks.first ?? 0)...(xTicks.last ?? 1)
        yRange = (yTicks.first ?? 0)...(yTicks.last ?? 1)
    }

    func px(_ x: Double) -> Double {
        plot.minX + (x - xRange.lowerBound) / max(1e-12, xRange.upperBound - xRange.lowerBound) * (plot.maxX - plot.minX)
    }

    func py(_ y: Double) -> Double {
        plot.maxY - (y - yRange.lowerBound) / max(1e-12, yRange.upperBound - yRange.lowerBound) * (plot.maxY - plot.minY)
    }

    /// Round tick values (1, 2 or 5 × 10ⁿ apart) covering low…high, about `count` of them.
    static func ticks(_ low: Double, _ high: Double, count: Int) -> [Double] {
        var low = low, high = high
        if high - low < 1e-9 { low -= 0.5; high += 0.5 }
        let rough = (high - low) / Double(max(1, count - 1))
        let magnitude = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
        let first = floor(low / step) * step, last = ceil(high / step) * step
        let n = Int(((last - first) / step).rounded())
        return (0...max(1, n)).map { first + Double($0) * step }
    }

    /// A tick value without float noise: 0.30000000000000004 → "0.3", 20.0 → "20".
    static func label(_ value: Double) -> String {
        if abs(value - value.rounded()) < 1e-9 { return String(Int(value.rounded())) }
        var text = String(format: "%.3f", value)
        while text.hasSuffix("0") { text.removeLast() }
        return text
    }
}
