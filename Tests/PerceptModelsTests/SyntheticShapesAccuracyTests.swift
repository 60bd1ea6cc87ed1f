import XCTest
import PerceptCore
import PerceptData
import PerceptModels
import PerceptEvaluation

/// The embedded dataset must be learnable but not trivial: pixel-space baselines land well
/// above chance (10%) and well below what a CNN reaches.
final class SyntheticShapesAccuracyTests: XCTestCase {
    func testPixelBaselinesAreAboveChanceAndBelowNinetyPercent() throws {
        let dataset = try SyntheticShapes(seed: 1).makeDataset(perClass: 100)
        let splits = try dataset.split(train: 0.8, validation: 0, test: 0.2, seed: 2)
        var results: [String: Double] = [:]
        for metric in [DistanceMetric.l1, .l2] {
            var model = KNearestNeighbors(k: 1, metric: metric)
            try model.fit(splits.train)
            results["1-NN \(metric)"] = try accuracy(predicted: model.predict(splits.test), truth: splits.test.labels)
        }
        var means = NearestClassMean()
        try means.fit(splits.train)
        results["nearest class mean"] = try accuracy(predicted: means.predict(splits.test), truth: splits.test.labels)
        print("SyntheticShapes 100/class, 80/20:", results.sorted { $0.key < $1.key })
        for (name, value) in results {
            XCTAssertGreaterThan(value, 0.2, name)
            XCTAssertLessThan(value, 0.9, name)
        }
    }
}
