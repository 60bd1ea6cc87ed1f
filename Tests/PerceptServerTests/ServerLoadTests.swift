import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import HummingbirdTesting
@testable import PerceptServer
import XCTest

/// Fifty prediction requests at once, over real sockets, against a real trained model: every one served.
final class ServerLoadTests: XCTestCase {
    func testFiftyParallelPredictionsAreAllServed() async throws {
        let directory = try StoreFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (service, datasetId) = try await StoreFixtures.serviceWithShapes(in: directory)
        let source = directory.appendingPathComponent("source")
        let run = try await service.finishedRun(try await service.startRun(datasetId: datasetId, model: "knn", options: [:]))
        let modelId = try XCTUnwrap(run.modelId, run.error ?? "")
        let photo = try XCTUnwrap(FileManager.default.enumerator(at: source, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.first { $0.pathExtension == "png" })
        let body = MultipartBody(parts: [.init(name: "file", fileName: "photo.png", contents: try Data(contentsOf: photo))])
        let payload = Data(body.buffer.readableBytesView)
        let app = PerceptWebApp(service: service, port: 0, maxUploadBytes: 1 << 20,
                                uploadDirectory: directory.appendingPathComponent("uploads"))
        try await app.buildApplication().test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let url = try XCTUnwrap(URL(string: "http://127.0.0.1:\(port)/api/models/\(modelId)/predict"))
            let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        var request = URLRequest(url: url)
                        request.httpMethod = "POST"
                        request.setValue("multipart/form-data; boundary=\(MultipartBody.boundary)", forHTTPHeaderField: "Content-Type")
                        request.httpBody = payload
                        let (data, response) = try await URLSession.shared.data(for: request)
                        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
                    }
                }
                var answers: [(Int, String)] = []
                for try await answer in group { answers.append(answer) }
                return answers
            }
            XCTAssertEqual(answers.count, 50)
            for (status, text) in answers {
                XCTAssertEqual(status, 200, text)
                XCTAssertTrue(text.contains("\"probability\"") && text.contains("photo.png"), text)
            }
        }
    }
}
