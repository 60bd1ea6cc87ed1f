import Foundation
import Hummingbird
import Percept

/// The frame every page shares: the report stylesheet plus the app's own (`PageAssets`), a header
/// linking home, one script served from this server (no inline scripts, nothing from a CDN).
enum PageLayout {
    /// Pages run only this server's script; styles may be inline (the heatmap shades its cells).
    static let contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        + "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"

    static func page(title: String, body: String) -> Response {
        let html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escaped(title)) · Percept</title>
            <link rel="stylesheet" href="/assets/percept.css">
            <script src="/assets/percept.js" defer></script>
            </head>
            <body>
            <nav><a href="/">Percept</a></nav>
            <h1>\(escaped(title))</h1>
            \(body)
            </body>
            </html>

            """
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8",
                                               .contentSecurityPolicy: contentSecurityPolicy],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func asset(_ text: String, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType, .cacheControl: "no-cache"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func escaped(_ text: String) -> String { HTMLDocument.escaped(text) }

    static func percent(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        return String(format: "%.1f%%", value * 100)
    }

    static func link(_ text: String, to path: String) -> String {
        "<a href=\"\(escaped(path))\">\(escaped(text))</a>"
    }

    /// A table whose cells are already HTML (links); headers are escaped.
    static func table(headers: [String], rows: [[String]], empty: String) -> String {
        guard !rows.isEmpty else { return "<p class=\"muted\">\(escaped(empty))</p>" }
        return "<table><thead><tr>" + headers.map { "<th>\(escaped($0))</th>" }.joined() + "</tr></thead><tbody>"
            + rows.map { "<tr>" + $0.map { "<td>\($0)</td>" }.joined() + "</tr>" }.joined() + "</tbody></table>"
    }

    /// The run's options as `k=5, metric=l1`.
    static func options(_ options: [String: String]) -> String {
        options.isEmpty ? "defaults" : options.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
    }
}
