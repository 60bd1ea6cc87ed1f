import PerceptImage

extension LineChart {
    /// The chart drawn into an image: the same layout as `svg()`, with lines, dots, error bars,
    /// axes and labels in a built-in 5×7 bitmap font (upper case, digits, a few signs).
    public func render() -> Image {
        let layout = ChartLayout(self)
        let plot = layout.plot
        var canvas = Raster(width: width, height: height, background: RGB(255, 255, 255))
        let black = RGB(0, 0, 0), gray = RGB(225, 225, 225), ink = RGB(40, 40, 40)

        for tick in layout.yTicks {
            let y = layout.py(tick)
            canvas.line(plot.minX, y, plot.maxX, y, color: gray)
            canvas.line(plot.minX - 5, y, plot.minX, y, color: black)
            let label = ChartLayout.label(tick)
            canvas.text(label, x: Int(plot.minX) - 8 - Raster.textWidth(label), y: Int(y) - 3, color: ink)
        }
        for tick in layout.xTicks {
            let x = layout.px(tick)
            canvas.line(x, plot.maxY, x, plot.maxY + 5, color: black)
            let label = ChartLayout.label(tick)
            canvas.text(label, x: Int(x) - Raster.textWidth(label) / 2, y: Int(plot.maxY) + 9, color: ink)
        }
        canvas.line(plot.minX, plot.maxY, plot.maxX, plot.maxY, color: black)
        canvas.line(plot.minX, plot.minY, plot.minX, plot.maxY, color: black)
        canvas.text(title, x: (width - Raster.textWidth(title, scale: 2)) / 2, y: 12, color: black, scale: 2)
        canvas.text(xLabel, x: Int((plot.minX + plot.maxX) / 2) - Raster.textWidth(xLabel) / 2, y: height - 22, color: ink)
        canvas.text(yLabel, x: 8, y: Int(plot.minY) - 14, color: ink)

        for line in series {
            for point in line.points where point.spread > 0 {
                let x = layout.px(point.x), top = layout.py(point.mean + point.spread), bottom = layout.py(point.mean - point.spread)
                canvas.line(x, top, x, bottom, color: line.color)
                canvas.line(x - 4, top, x + 4, top, color: line.color)
                canvas.line(x - 4, bottom, x + 4, bottom, color: line.color)
            }
            let dot = line.color.mixed(with: RGB(255, 255, 255), 0.35)
            for point in line.points {
                for sample in point.samples { canvas.disc(layout.px(point.x), layout.py(sample), radius: 2.5, color: dot) }
            }
            for (a, b) in zip(line.points, line.points.dropFirst()) {
                canvas.line(layout.px(a.x), layout.py(a.mean), layout.px(b.x), layout.py(b.mean), color: line.color, thickness: 2)
            }
        }
        for (index, line) in series.enumerated() {
            let y = plot.minY + 10 + Double(index) * 20
            canvas.line(plot.maxX + 16, y, plot.maxX + 40, y, color: line.color, thickness: 2)
            canvas.text(line.name, x: Int(plot.maxX) + 46, y: Int(y) - 3, color: ink)
        }
        return canvas.image
    }

    /// The rendered chart as PNG bytes.
    public func pngData() throws -> [UInt8] { try render().pngData() }
}

/// A tiny rasteriser: thick lines, filled discs and bitmap text on an RGB image; everything
/// outside the image is clipped.
struct Raster {
    private(set) var image: Image

    init(width: Int, height: Int, background: RGB) {
        image = Image(width: width, height: height, fill: (background.r, background.g, background.b))
    }

    /// Draws over an existing picture.
    init(image: Image) {
        self.image = image
    }

    mutating func set(_ x: Int, _ y: Int, _ color: RGB) {
        guard x >= 0, y >= 0, x < image.width, y < image.height else { return }
        image[x, y] = (color.r, color.g, color.b)
    }

    /// A line from (x0, y0) to (x1, y1), stamped with a `thickness`-pixel square at every step.
    mutating func line(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double, color: RGB, thickness: Int = 1) {
        guard [x0, y0, x1, y1].allSatisfy(\.isFinite) else { return }
        let steps = Int(max(abs(x1 - x0), abs(y1 - y0)).rounded(.up)), half = (thickness - 1) / 2
        for step in 0...max(0, steps) {
            let t = steps == 0 ? 0 : Double(step) / Double(steps)
            let x = Int((x0 + (x1 - x0) * t).rounded()), y = Int((y0 + (y1 - y0) * t).rounded())
            for dy in 0..<max(1, thickness) { for dx in 0..<max(1, thickness) { set(x - half + dx, y - half + dy, color) } }
        }
    }

    mutating func disc(_ cx: Double, _ cy: Double, radius: Double, color: RGB) {
        guard cx.isFinite, cy.isFinite else { return }
        let reach = Int(radius.rounded(.up))
        for dy in -reach...reach {
            for dx in -reach...reach where Double(dx * dx + dy * dy) <= radius * radius {
                set(Int(cx.rounded()) + dx, Int(cy.rounded()) + dy, color)
            }
        }
    }

    /// `image` enlarged `scale`× (nearest neighbour) inside a `borderWidth` frame, top-left at (left, top).
    mutating func framedImage(_ image: Image, scale: Int, borderWidth: Int, frame: RGB, left: Int, top: Int) {
        let framedWidth = image.width * scale + 2 * borderWidth, framedHeight = image.height * scale + 2 * borderWidth
        for y in 0..<framedHeight {
            for x in 0..<framedWidth {
                let inside = x >= borderWidth && y >= borderWidth && x < framedWidth - borderWidth && y < framedHeight - borderWidth
                if inside {
                    let pixel = image[(x - borderWidth) / scale, (y - borderWidth) / scale]
                    set(left + x, top + y, RGB(pixel.r, pixel.g, pixel.b))
                } else {
                    set(left + x, top + y, frame)
                }
            }
        }
    }

    /// Pixels a string takes horizontally: 6 per character (5 plus a gap), times the scale.
    static func textWidth(_ text: String, scale: Int = 1) -> Int { max(0, text.count * 6 - 1) * scale }

    /// Text with its top-left corner at (x, y); lower case is drawn as upper case, unknown
    /// characters as spaces.
    mutating func text(_ text: String, x: Int, y: Int, color: RGB, scale: Int = 1) {
        for (index, character) in text.uppercased().enumerated() {
            guard let columns = Self.font[character] else { continue }
            for (column, bits) in columns.enumerated() {
                for row in 0..<7 where bits & (1 << row) != 0 {
                    for sy in 0..<scale { for sx in 0..<scale {
                        set(x + (index * 6 + column) * scale + sx, y + row * scale + sy, color)
                    } }
                }
            }
        }
    }

    /// The classic 5×7 font: five columns per glyph, bit 0 the top row.
    static let font: [Character: [UInt8]] = [
        "0": [0x3E, 0x51, 0x49, 0x45, 0x3E], "1": [0x00, 0x42, 0x7F, 0x40, 0x00], "2": [0x42, 0x61, 0x51, 0x49, 0x46],
        "3": [0x21, 0x41, 0x45, 0x4B, 0x31], "4": [0x18, 0x14, 0x12, 0x7F, 0x10], "5": [0x27, 0x45, 0x45, 0x45, 0x39],
        "6": [0x3C, 0x4A, 0x49, 0x49, 0x30], "7": [0x01, 0x71, 0x09, 0x05, 0x03], "8": [0x36, 0x49, 0x49, 0x49, 0x36],
        "9": [0x06, 0x49, 0x49, 0x29, 0x1E], "A": [0x7E, 0x11, 0x11, 0x11, 0x7E], "B": [0x7F, 0x49, 0x49, 0x49, 0x36],
        "C": [0x3E, 0x41, 0x41, 0x41, 0x22], "D": [0x7F, 0x41, 0x41, 0x22, 0x1C], "E": [0x7F, 0x49, 0x49, 0x49, 0x41],
        "F": [0x7F, 0x09, 0x09, 0x01, 0x01], "G": [0x3E, 0x41, 0x41, 0x51, 0x32], "H": [0x7F, 0x08, 0x08, 0x08, 0x7F],
        "I": [0x00, 0x41, 0x7F, 0x41, 0x00], "J": [0x20, 0x40, 0x41, 0x3F, 0x01], "K": [0x7F, 0x08, 0x14, 0x22, 0x41],
        "L": [0x7F, 0x40, 0x40, 0x40, 0x40], "M": [0x7F, 0x02, 0x04, 0x02, 0x7F], "N": [0x7F, 0x04, 0x08, 0x10, 0x7F],
        "O": [0x3E, 0x41, 0x41, 0x41, 0x3E], "P": [0x7F, 0x09, 0x09, 0x09, 0x06], "Q": [0x3E, 0x41, 0x51, 0x21, 0x5E],
        "R": [0x7F, 0x09, 0x19, 0x29, 0x46], "S": [0x46, 0x49, 0x49, 0x49, 0x31], "T": [0x01, 0x01, 0x7F, 0x01, 0x01],
        "U": [0x3F, 0x40, 0x40, 0x40, 0x3F], "V": [0x1F, 0x20, 0x40, 0x20, 0x1F], "W": [0x7F, 0x20, 0x18, 0x20, 0x7F],
        "X": [0x63, 0x14, 0x08, 0x14, 0x63], "Y": [0x03, 0x04, 0x78, 0x04, 0x03], "Z": [0x61, 0x51, 0x49, 0x45, 0x43],
        ".": [0x00, 0x60, 0x60, 0x00, 0x00], ",": [0x00, 0x50, 0x30, 0x00, 0x00], "-": [0x08, 0x08, 0x08, 0x08, 0x08],
        "%": [0x23, 0x13, 0x08, 0x64, 0x62], ":": [0x00, 0x36, 0x36, 0x00, 0x00], "=": [0x14, 0x14, 0x14, 0x14, 0x14],
        "(": [0x00, 0x1C, 0x22, 0x41, 0x00], ")": [0x00, 0x41, 0x22, 0x1C, 0x00], "/": [0x20, 0x10, 0x08, 0x04, 0x02],
    ]
}
