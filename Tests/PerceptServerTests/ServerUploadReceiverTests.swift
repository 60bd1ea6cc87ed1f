import Foundation
import Hummingbird
import XCTest
@testable import PerceptServer

/// `UploadReceiver` on its own: the limit counted while streaming (a body without Content-Length).
final class ServerUploadReceiverTests: XCTestCase {
    /// Chunks of a body, counting how many the reader pulled.
    struct CountedChunks: AsyncSequence, Sendable {
        final class Counter: @unchecked Sendable {
            private let lock = NSLock()
            private var pulled = 0
            func increment() { lock.lock(); pulled += 1; lock.unlock() }
            var value: Int { lock.lock(); defer { lock.unlock() }; return pulled }
        }

        let chunks: [ByteBuffer]
        let counter = Counter()

        struct AsyncIterator: AsyncIteratorProtocol {
            var remaining: ArraySlice<ByteBuffer>
            let counter: Counter
            mutating func next() async -> ByteBuffer? {
                guard let chunk = remaining.popFirst() else { return nil }
                counter.increment()
                return chunk
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(remaining: chunks[...], counter: counter) }
    }

    func testABodyWithoutLengthIsRefusedAsSoonAsItPassesTheLimit() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("percept-receiver-\(UUID().uuidString)")
        let whole = MultipartBody(parts: [.init(name: "file", fileName: "a.zip", contents: Data(repeating: 7, count: 10_000))]).buffer
        let chunks = stride(from: 0, to: whole.readableBytes, by: 500).map {
            whole.getSlice(at: $0, length: min(500, whole.readableBytes - $0)) ?? ByteBuffer()
        }
        let body = CountedChunks(chunks: chunks)
        let request = Request(head: HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: "/api/datasets",
                                                headerFields: MultipartBody(parts: []).headers),
                              body: RequestBody(asyncSequence: body))
        do {
            _ = try await UploadReceiver.receive(request, maxBytes: 1200, directory: directory)
            XCTFail("an upload over the limit was accepted")
        } catch let error as ServiceError {
            guard case .tooLarge = error else { return XCTFail("expected tooLarge, got \(error)") }
        }
        XCTAssertEqual(body.counter.value, 3, "reading stops at the chunk that passes the limit")
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [], [],
                       "the part written before the limit is removed")
    }
}
