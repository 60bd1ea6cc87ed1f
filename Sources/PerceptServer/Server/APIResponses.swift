import Foundation
import Hummingbird
import Percept

// Every answer of the JSON API: the documents in the encoder `percept … --json` uses (pretty, sorted keys,
// slashes unescaped), and every failure as `{"error": "…"}` with the status that fits it.

enum APIResponses {
    /// The encoder of `percept evaluate --json` / `predict --json` (the CLI's `Terminal.printJSON`),
    /// so a script reads the same document from either.
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        var data = try encoder().encode(value)
        data.append(contentsOf: Array("\n".utf8))
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `{"error": message}` with `status`.
    static func error(_ message: String, status: HTTPResponse.Status) -> Response {
        // Encoding one string cannot fail; the fallback keeps the answer JSON regardless.
        let body = (try? encoder().encode(ErrorDocument(error: message))) ?? Data(#"{"error": "internal error"}"#.utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The status and message an error thrown by a route or the service answers with.
    static func statusAndMessage(for error: any Error) -> (HTTPResponse.Status, String) {
        switch error {
        case let error as ServiceError:
            switch error {
            case .badRequest(let message): return (.badRequest, message)
            case .notFound(let message): return (.notFound, message)
            case .conflict(let message): return (.conflict, message)
            case .tooLarge(let message): return (.contentTooLarge, message)
            }
        case let error as HTTPError:
            return (error.status, error.body ?? defaultMessage(error.status))
        case is DecodingError:
            return (.badRequest, "the request body is not the JSON this endpoint expects: \(describe(error))")
        case let error as PerceptError:
            // The library's own checks (an unknown family, a bad option) are the client's to fix.
            return (.badRequest, error.description)
        default:
            return (.internalServerError, "internal error: \(error)")
        }
    }

    private static func defaultMessage(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: return "there is no such page or endpoint"
        case .contentTooLarge: return "the request body is over the upload limit"
        case .methodNotAllowed: return "this endpoint does not take that method"
        default: return status.reasonPhrase
        }
    }

    /// A decoding error in a sentence (which field, what was wrong), without Swift's type dump.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map(\.stringValue).joined(separator: ".")
            return keys.isEmpty ? "" : " at '\(keys)'"
        }
        switch error {
        case .dataCorrupted(let context): return "malformed JSON\(path(context))"
        case .keyNotFound(let key, let context): return "missing field '\(key.stringValue)'\(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(context.debugDescription)\(path(context))"
        @unknown default: return "malformed JSON"
        }
    }
}

struct ErrorDocument: Codable, Equatable {
    var error: String
}

/// `{"id": …}`: what creating a dataset or a run answers.
struct CreatedDocument: Codable, Equatable {
    var id: Int64
}

/// Turns every error below it (the service's, Hummingbird's own 404 for an unknown route, a bad body)
/// into a JSON `{"error"}` answer, so no client input ends in an HTML or empty error page.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let (status, message) = APIResponses.statusAndMessage(for: error)
            if status == .internalServerError {
                context.logger.error("\(request.method) \(request.uri.path): \(error)")
            }
            return APIResponses.error(message, status: status)
        }
    }
}
