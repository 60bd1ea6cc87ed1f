import Foundation
import Hummingbird
import HummingbirdTesting
import Percept
@testable import PerceptServer
import XCTest

/// Downloads through the real service: a trained model as ONNX (and the refusal for a family without
/// an ONNX form), and a dataset's label statistics as CSV.
final class ServerDownloadTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try StoreFixtures.temporaryDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testModelsDownloadAsONNXAndLabelsAsCSV() async throws {
        let (service, datasetId) = try await StoreFixtures.serviceWithShapes(in: directory)
        var models: [String: Int64] = [:]
        for family in ["softmax", "knn"] {
            let runId = try await service.startRun(datasetId: datasetId, model: family,
                                                   options: family == "softmax" ? ["epochs": "2"] : [:])
            let run = try await service.finishedRun(runId)
            XCTAssertEqual(run.state, .succeeded, run.error ?? "")
            models[family] = try XCTUnwrap(run.modelId)
        }
        let app = PerceptWebApp(service: service, maxUploadBytes: 1 << 20,
                                uploadDirectory: directory.appendingPathComponent("uploads"))
        let (softmax, knn) = (try XCTUnwrap(models["softmax"]), try XCTUnwrap(models["knn"]))
        let serverPath = directory.path
        try await Application(router: app.buildRouter()).test(.router) { client in
            try await client.execute(uri: "/api/models/\(softmax)/onnx", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentDisposition], "attachment; filename=\"model-\(softmax).onnx\"")
                let model = try ONNXModel(serializedBytes: Data(response.body.readableBytesView), path: "download.onnx")
                XCTAssertEqual(model.outputs.map(\.name), ["probabilities"])
                XCTAssertEqual(model.metadata["percept.labels"], "[\"circle\",\"square\",\"triangle\"]")
            }
            try await client.execute(uri: "/api/models/\(knn)/onnx", method: .get) { response in
                XCTAssertEqual(response.status, .conflict)
                let message = String(buffer: response.body)
                XCTAssertTrue(message.contains("cannot be exported to ONNX"), message)
                XCTAssertFalse(message.contains(serverPath), "no server path in the answer: \(message)")
            }
            try await client.execute(uri: "/api/datasets/\(datasetId)/labels.csv", method: .get) { response in
                XCTAssertEqual(response.status, .ok)
                XCTAssertEqual(response.headers[.contentType], "text/csv; charset=utf-8")
                XCTAssertEqual(String(buffer: response.body), "label,images\ncircle,10\nsquare,10\ntriangle,10\n")
            }
            try await client.execute(uri: "/api/datasets/99/labels.csv", method: .get) { response in
                XCTAssertEqual(response.status, .notFound)
            }
        }
    }
}
