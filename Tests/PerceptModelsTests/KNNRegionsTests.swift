import XCTest
import PerceptCore
import PerceptModels
@testable import PerceptReports

/// The 2-D toy demo: regions agree with 1-NN at the points, pictures have the promised layout.
final class KNNRegionsTests: XCTestCase {
    func testOneNNRegionsHoldTheirPointsAndTwoPointsSplitThePlane() throws {
        // Two points: left half class 0, right half class 1 under 1-NN (L2 and L1 alike).
        let points = [DecisionRegions.Point(x: 0.25, y: 0.5, label: 0), .init(x: 0.75, y: 0.5, label: 1)]
        for metric in [DistanceMetric.l1, .l2] {
            let regions = DecisionRegions(panelSize: 40, metric: metric)
            let labels = try regions.labels(points: points, classes: 2, k: 1)
            XCTAssertEqual(labels.count, 1600)
            for y in 0..<40 {
                for x in 0..<40 { XCTAssertEqual(labels[y * 40 + x], x < 20 ? 0 : 1, "\(metric) (\(x), \(y))") }
            }
            // k = 2: one vote each, so the nearest point's class wins: the same split.
            XCTAssertEqual(try regions.labels(points: points, classes: 2, k: 2), labels)
        }
    }

    func testRandomPointsAreSeededAndPicturesHavePanelsPerK() throws {
        let points = DecisionRegions.randomPoints(count: 30, classes: 4, seed: 3)
        XCTAssertEqual(points, DecisionRegions.randomPoints(count: 30, classes: 4, seed: 3))
        XCTAssertNotEqual(points, DecisionRegions.randomPoints(count: 30, classes: 4, seed: 4))
        XCTAssertEqual(Set(points.map(\.label)), [0, 1, 2, 3])
        XCTAssertTrue(points.allSatisfy { (0...1).contains($0.x) && (0...1).contains($0.y) })
        let regions = DecisionRegions(panelSize: 50)
        let labels = try regions.labels(points: points, classes: 4, k: 1)
        for point in points {  // 1-NN: each pixel takes the class of the point nearest its centre
            let x = min(49, Int(point.x * 50)), y = min(49, Int(point.y * 50))
            let nearest = points.min { a, b in
                let da = pow(a.x - (Double(x) + 0.5) / 50, 2) + pow(a.y - (Double(y) + 0.5) / 50, 2)
                let db = pow(b.x - (Double(x) + 0.5) / 50, 2) + pow(b.y - (Double(y) + 0.5) / 50, 2)
                return da < db
            }
            XCTAssertEqual(labels[y * 50 + x], nearest?.label)
        }
        let picture = try regions.render(points: points, classes: 4, ks: [1, 3, 5])
        XCTAssertEqual(picture.width, 12 + 3 * (50 + 12))
        XCTAssertEqual(picture.height, 22 + 50 + 12)
        XCTAssertThrowsError(try regions.render(points: points, classes: 4, ks: [31]))
        XCTAssertThrowsError(try regions.render(points: points, classes: 4, ks: [0]))
        XCTAssertThrowsError(try regions.render(points: [], classes: 4, ks: [1]))
    }
}
