import Foundation
import Hummingbird

/// Refuses (403) a request that changes something (POST and the other unsafe methods) when its
/// `Origin` — or, without one, its `Referer` — names another site than the `Host` it was sent to:
/// a page elsewhere cannot make the visitor's browser upload, train or cancel here. Requests
/// with neither header (curl, scripts) are no cross-site risk and pass.
struct SameOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let safeMethods: Set<HTTPRequest.Method> = [.get, .head, .options]
        if !safeMethods.contains(request.method) {
            let source = request.headers[.origin] ?? request.headers[.referer]
            if let source, !SameOrigin.isSameOrigin(source, host: request.head.authority) {
                return APIResponses.error("cross-site request refused: \(request.headers[.origin] != nil ? "Origin" : "Referer") "
                                          + "'\(source)' is not this server", status: .forbidden)
            }
        }
        return try await next(request, context)
    }
}

/// The comparison behind `SameOriginMiddleware`.
enum SameOrigin {
    /// Whether the URL `source` (an Origin or a Referer) points at `host` (the request's Host,
    /// `name[:port]`); a missing port means the scheme's default. `Origin: null` (a sandboxed or
    /// file page) is never the same origin.
    static func isSameOrigin(_ source: String, host: String?) -> Bool {
        guard let host, let url = URLComponents(string: source), let sourceHost = url.host, !sourceHost.isEmpty,
              let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else { return false }
        let defaultPort = scheme == "https" ? 443 : 80
        let (requestHost, requestPort) = split(authority: host)
        return normalised(sourceHost) == normalised(requestHost) && (url.port ?? defaultPort) == (requestPort ?? defaultPort)
    }

    /// `name:port`, `[v6]:port` or a bare name into its parts.
    static func split(authority: String) -> (host: String, port: Int?) {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            let name = String(authority[authority.index(after: authority.startIndex)..<close])
            let rest = authority[authority.index(after: close)...]
            return (name, rest.hasPrefix(":") ? Int(rest.dropFirst()) : nil)
        }
        guard let colon = authority.lastIndex(of: ":") else { return (authority, nil) }
        return (String(authority[..<colon]), Int(authority[authority.index(after: colon)...]))
    }

    private static func normalised(_ host: String) -> String {
        host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
    }
}
