import XCTest
@testable import PerceptServer

/// The JSON API's documents keep the field names the README documents.
final class ServiceContractTests: XCTestCase {
    func testRunStatusEncodesTheDocumentedFields() throws {
        let status = RunStatus(id: 3, datasetId: 1, model: "knn", options: ["k": "5"], state: .running, progress: 0.5,
                               message: "epoch 1/2", modelId: nil, error: nil)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(status)) as? [String: Any])
        XCTAssertEqual(object["state"] as? String, "running")
        XCTAssertEqual(object["id"] as? Int, 3)
        XCTAssertEqual(object["progress"] as? Double, 0.5)
    }
}
