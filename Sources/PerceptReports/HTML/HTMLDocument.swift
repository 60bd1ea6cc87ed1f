import Foundation

/// A self-contained HTML page: text, tables, inline SVG and PNG images as data URIs, one
/// stylesheet in the head, no scripts and nothing fetched from the network — a report that
/// opens anywhere, offline, years later.
public struct HTMLDocument {
    public let title: String
    private var body: [String] = []

    public init(title: String) {
        self.title = title
    }

    /// Text safe in HTML content and double-quoted attributes.
    public static func escaped(_ text: String) -> String { SVGDocument.escaped(text) }

    public mutating func heading(_ text: String, level: Int = 2, id: String? = nil) {
        let level = min(6, max(1, level))
        let anchor = id.map { " id=\"\(Self.escaped($0))\"" } ?? ""
        body.append("<h\(level)\(anchor)>\(Self.escaped(text))</h\(level)>")
    }

    public mutating func paragraph(_ text: String, className: String? = nil) {
        let attribute = className.map { " class=\"\(Self.escaped($0))\"" } ?? ""
        body.append("<p\(attribute)>\(Self.escaped(text))</p>")
    }

    /// A list of warnings or notes.
    public mutating func list(_ items: [String], className: String? = nil) {
        guard !items.isEmpty else { return }
        let attribute = className.map { " class=\"\(Self.escaped($0))\"" } ?? ""
        body.append("<ul\(attribute)>" + items.map { "<li>\(Self.escaped($0))</li>" }.joined() + "</ul>")
    }

    /// A table; cells that parse as numbers are right-aligned.
    public mutating func table(headers: [String], rows: [[String]], caption: String? = nil) {
        var html = "<table>"
        if let caption { html += "<caption>\(Self.escaped(caption))</caption>" }
        html += "<thead><tr>" + headers.map { "<th>\(Self.escaped($0))</th>" }.joined() + "</tr></thead><tbody>"
        for row in rows {
            html += "<tr>" + row.map { cell in
                let numeric = Double(cell.trimmingCharacters(in: CharacterSet(charactersIn: "% "))) != nil
                return "<td\(numeric ? " class=\"num\"" : "")>\(Self.escaped(cell))</td>"
            }.joined() + "</tr>"
        }
        body.append(html + "</tbody></table>")
    }

    /// Two columns of facts: name, value.
    public mutating func facts(_ pairs: [(String, String)]) {
        guard !pairs.isEmpty else { return }
        body.append("<dl>" + pairs.map { "<dt>\(Self.escaped($0.0))</dt><dd>\(Self.escaped($0.1))</dd>" }.joined() + "</dl>")
    }

    public mutating func preformatted(_ text: String) {
        body.append("<pre>\(Self.escaped(text))</pre>")
    }

    /// An SVG drawing inline (its XML prolog dropped), with a caption.
    public mutating func svg(_ svg: String, caption: String) {
        let drawing = svg.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("<?xml") }.joined(separator: "\n")
        body.append("<figure>\(drawing)<figcaption>\(Self.escaped(caption))</figcaption></figure>")
    }

    /// A PNG embedded as a data URI, drawn at `scale`× its pixel size with crisp pixels.
    public mutating func png(_ bytes: [UInt8], width: Int, alt: String, caption: String) {
        let uri = "data:image/png;base64," + Data(bytes).base64EncodedString()
        body.append("<figure><img src=\"\(uri)\" width=\"\(width)\" alt=\"\(Self.escaped(alt))\">"
                    + "<figcaption>\(Self.escaped(caption))</figcaption></figure>")
    }

    /// A matrix as a table whose cells are shaded by value (darker is larger): the confusion
    /// matrix, rows true classes and columns predicted ones.
    public mutating func heatmapTable(rowLabels: [String], columnLabels: [String], values: [[Int]],
                                      corner: String, caption: String) {
        let largest = max(1, values.flatMap { $0 }.max() ?? 1)
        var html = "<table class=\"heatmap\"><caption>\(Self.escaped(caption))</caption><thead><tr><th>\(Self.escaped(corner))</th>"
        html += columnLabels.map { "<th class=\"rot\"><span>\(Self.escaped($0))</span></th>" }.joined() + "</tr></thead><tbody>"
        for (row, label) in rowLabels.enumerated() {
            html += "<tr><th>\(Self.escaped(label))</th>"
            for (column, value) in values[row].enumerated() {
                let strength = Double(value) / Double(largest)
                // Diagonal (right) in green, off-diagonal (wrong) in red.
                let hue = row == column ? "40,150,70" : "200,50,50"
                let textColor = strength > 0.55 ? "#fff" : "#222"
                html += "<td class=\"num\" style=\"background:rgba(\(hue),\(String(format: "%.3f", 0.08 + 0.92 * strength)));color:\(textColor)\">\(value)</td>"
            }
            html += "</tr>"
        }
        body.append(html + "</tbody></table>")
    }

    /// Appends the body of another document (a section built apart).
    public mutating func append(_ other: HTMLDocument) { body += other.body }

    /// The body's elements alone, for a page that wraps them itself (the web app's pages).
    public var bodyHTML: String { body.joined(separator: "\n") }

    public func rendered() -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Self.escaped(title))</title>
        <style>
        \(Self.stylesheet)
        </style>
        </head>
        <body>
        <h1>\(Self.escaped(title))</h1>
        \(body.joined(separator: "\n"))
        </body>
        </html>

        """
    }

    public static let stylesheet = """
        body { font-family: -apple-system, Helvetica, Arial, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
        h1 { border-bottom: 2px solid #ddd; padding-bottom: .3em; }
        h2 { margin-top: 2em; border-bottom: 1px solid #eee; }
        table { border-collapse: collapse; margin: 1em 0; font-size: 14px; }
        th, td { padding: 3px 8px; border: 1px solid #ddd; }
        th { background: #f6f6f6; text-align: left; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        caption { caption-side: top; text-align: left; font-weight: bold; padding: 4px 0; }
        table.heatmap th.rot { height: 110px; vertical-align: bottom; white-space: nowrap; }
        table.heatmap th.rot span { writing-mode: vertical-rl; transform: rotate(180deg); }
        figure { margin: 1em 0; }
        figure img { image-rendering: pixelated; border: 1px solid #eee; max-width: 100%; height: auto; }
        figcaption { color: #666; font-size: 13px; margin-top: 4px; }
        dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; }
        dt { font-weight: bold; }
        dd { margin: 0; }
        ul.warnings li { color: #8a5a00; }
        pre { background: #f8f8f8; padding: 8px; overflow-x: auto; }
        """
}
