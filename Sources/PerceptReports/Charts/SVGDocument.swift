import Foundation

/// A small SVG writer: elements appended as text, every attribute and text escaped, numbers
/// written with at most two decimals (shorter files, stable output for tests).
struct SVGDocument {
    private var body: [String] = []
    let width: Int
    let height: Int

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Text safe inside XML content and double-quoted attributes.
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(character)
            }
        }
        return out
    }

    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        var text = String(format: "%.2f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    private static func attributes(_ pairs: [(String, String)]) -> String {
        pairs.map { " \($0.0)=\"\(escaped($0.1))\"" }.joined()
    }

    mutating func element(_ name: String, _ pairs: [(String, String)]) {
        body.append("<\(name)\(Self.attributes(pairs))/>")
    }

    mutating func open(_ name: String, _ attributes: [String: String]) {
        body.append("<\(name)\(Self.attributes(attributes.sorted { $0.key < $1.key }))>")
    }

    mutating func close(_ name: String) { body.append("</\(name)>") }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: RGB) {
        element("rect", [("x", Self.number(x)), ("y", Self.number(y)), ("width", Self.number(width)),
                         ("height", Self.number(height)), ("fill", fill.hex)])
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: RGB, width: Double, className: String) {
        element("line", [("class", className), ("x1", Self.number(x1)), ("y1", Self.number(y1)), ("x2", Self.number(x2)),
                         ("y2", Self.number(y2)), ("stroke", stroke.hex), ("stroke-width", Self.number(width))])
    }

    mutating func path(_ d: String, stroke: RGB, width: Double, className: String) {
        element("path", [("class", className), ("d", d), ("fill", "none"), ("stroke", stroke.hex),
                         ("stroke-width", Self.number(width))])
    }

    mutating func circle(cx: Double, cy: Double, r: Double, fill: RGB, className: String) {
        element("circle", [("class", className), ("cx", Self.number(cx)), ("cy", Self.number(cy)),
                           ("r", Self.number(r)), ("fill", fill.hex)])
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: RGB, width: Double, className: String) {
        let list = points.map { "\(Self.number($0.0)),\(Self.number($0.1))" }.joined(separator: " ")
        element("polyline", [("class", className), ("points", list), ("fill", "none"), ("stroke", stroke.hex),
                             ("stroke-width", Self.number(width)), ("stroke-linejoin", "round")])
    }

    mutating func text(_ content: String, x: Double, y: Double, size: Double, anchor: String,
                       weight: String = "normal", transform: String? = nil, fill: RGB? = nil) {
        var pairs = [("x", Self.number(x)), ("y", Self.number(y)), ("font-size", Self.number(size)),
                     ("text-anchor", anchor), ("font-family", "Helvetica, Arial, sans-serif"), ("font-weight", weight)]
        if let transform { pairs.append(("transform", transform)) }
        if let fill { pairs.append(("fill", fill.hex)) }
        body.append("<text\(Self.attributes(pairs))>\(Self.escaped(content))</text>")
    }

    func finished() -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)">
        \(body.joined(separator: "\n"))
        </svg>

        """
    }
}
