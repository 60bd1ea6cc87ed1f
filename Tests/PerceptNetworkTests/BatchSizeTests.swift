import XCTest
@testable import PerceptNetwork

final class BatchSizeTests: XCTestCase {
    /// The default 256 halves until an epoch has 8 steps, down to 32.
    func testSmallTrainingSetsGetSmallerBatches() {
        XCTAssertEqual(TrainingOptions.batchSize(trainingImages: 50_000), 256)
        XCTAssertEqual(TrainingOptions.batchSize(trainingImages: 2048), 256)
        XCTAssertEqual(TrainingOptions.batchSize(trainingImages: 2047), 128)
        XCTAssertEqual(TrainingOptions.batchSize(trainingImages: 648), 64)
        XCTAssertEqual(TrainingOptions.batchSize(trainingImages: 192), 32)
        XCTAssertEqual(TrainingOptions.batchSize(trainingImages: 3), 32)
        XCTAssertEqual(TrainingOptions.batchSize(trainingImages: 5000, largest: 1024), 512)
    }
}
