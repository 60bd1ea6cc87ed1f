import XCTest
import Foundation
import Percept

/// One history for every family: it round-trips, and histories written before the merge still decode.
final class TrainingHistoryTests: XCTestCase {
    func testRoundTrip() throws {
        var history = TrainingHistory()
        history.iterationLosses = [2.3, 2.0, 1.7]
        history.epochs = [EpochRecord(epoch: 1, trainLoss: 2.1, trainAccuracy: 0.4, validationLoss: 2.2,
                                      validationAccuracy: 0.35, learningRate: 0.01, elapsedSeconds: 1.5, imagesPerSecond: 900)]
        history.bestEpoch = 1
        history.peakMemoryBytes = 1 << 20
        let decoded = try JSONDecoder().decode(TrainingHistory.self, from: JSONEncoder().encode(history))
        XCTAssertEqual(decoded, history)
    }

    func testTheLinearModelsOldLayoutDecodes() throws {
        let old = """
            {"epochLosses":[2.2,1.85],"iterationLosses":[2.3,2.1,1.9,1.8],"learningRates":[0.01,0.009],
             "trainAccuracies":[0.3,0.4],"validationAccuracies":[0.28,0.35]}
            """
        let history = try JSONDecoder().decode(TrainingHistory.self, from: Data(old.utf8))
        XCTAssertEqual(history.epochLosses, [2.2, 1.85])
        XCTAssertEqual(history.trainAccuracies, [0.3, 0.4])
        XCTAssertEqual(history.validationAccuracies, [0.28, 0.35])
        XCTAssertEqual(history.learningRates, [0.01, 0.009])
        XCTAssertEqual(history.epochs.map(\.epoch), [1, 2])
        XCTAssertEqual(history.iterations, 4)
        XCTAssertEqual(history.finalValidationAccuracy, 0.35)
    }

    func testTheCNNsOldLayoutDecodes() throws {
        let old = """
            {"epochs":[{"epoch":1,"trainLoss":1.5,"trainAccuracy":0.5,"validationAccuracy":0.45,"learningRate":0.1,
                        "elapsedSeconds":3,"imagesPerSecond":300}],"bestEpoch":1,"bestValidationAccuracy":0.45,
             "stoppedEarly":false}
            """
        let history = try JSONDecoder().decode(TrainingHistory.self, from: Data(old.utf8))
        XCTAssertEqual(history.epochs.first?.elapsedSeconds, 3)
        XCTAssertEqual(history.bestValidationAccuracy, 0.45)
        XCTAssertTrue(history.iterationLosses.isEmpty)
    }
}
