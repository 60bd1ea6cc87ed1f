import Foundation
import Hummingbird

/// `GET /api/runs/{id}/events`: server-sent events, one `data:` line of RunStatus JSON each time the
/// run changes, ending when the run does. The page's `EventSource` follows it; a reload just opens a
/// new stream, whose first event is the run as it stands.
struct RunEvents: Sendable {
    let service: any PerceptService
    let interval: Duration

    /// States after which nothing changes any more.
    static let finalStates: Set<RunStatus.State> = [.succeeded, .failed, .cancelled, .interrupted]

    func stream(runId: Int64) async throws -> Response {
        // Asked once before answering, so an unknown run is a 404, not an empty stream.
        let first = try await service.run(runId)
        let service = self.service, interval = self.interval
        let body = ResponseBody { writer in
            var current = first
            var sent: RunStatus?
            while true {
                if current != sent {
                    try await writer.write(Self.event(current))
                    sent = current
                }
                if Self.finalStates.contains(current.state) { break }
                try await Task.sleep(for: interval)
                do { current = try await service.run(runId) } catch {
                    try await writer.write(ByteBuffer(string: "event: error\ndata: \(Self.compactJSON(ErrorDocument(error: "\(error)")))\n\n"))
                    break
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    /// One event: `data: {…}` and the blank line that ends it (compact JSON has no newline inside).
    static func event(_ status: RunStatus) -> ByteBuffer {
        ByteBuffer(string: "data: \(compactJSON(status))\n\n")
    }

    static func compactJSON<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
