import XCTest
import PerceptCore
import PerceptImage
@testable import PerceptData

final class SyntheticShapesTests: XCTestCase {
    func bytes(_ dataset: Dataset) -> [UInt8] { Array(dataset.pixels.bytes) }

    func testSameSeedSameBytesDifferentSeedDifferentBytes() throws {
        let a = try SyntheticShapes(seed: 3).makeDataset(perClass: 4)
        let b = try SyntheticShapes(seed: 3).makeDataset(perClass: 4)
        let c = try SyntheticShapes(seed: 4).makeDataset(perClass: 4)
        XCTAssertEqual(bytes(a), bytes(b))
        XCTAssertEqual(a.labels, b.labels)
        XCTAssertEqual(a.sources, b.sources)
        XCTAssertNotEqual(bytes(a), bytes(c))
        XCTAssertNotEqual(a.labels, c.labels)
    }

    func testOneThreadAndTwoThreadsDrawTheSameBytes() throws {
        let shapes = SyntheticShapes(seed: 11)
        XCTAssertEqual(bytes(try shapes.makeDataset(perClass: 6, threads: 1)),
                       bytes(try shapes.makeDataset(perClass: 6, threads: 2)))
    }

    func testBalancedClassesShapeAndSources() throws {
        let dataset = try SyntheticShapes(imageSize: ImageSize(width: 24, height: 16), seed: 1).makeDataset(perClass: 7)
        XCTAssertEqual(dataset.classNames, SyntheticShapes.classNames)
        XCTAssertEqual(dataset.classCounts, [Int](repeating: 7, count: 10))
        XCTAssertEqual([dataset.width, dataset.height, dataset.channels], [24, 16, 3])
        XCTAssertEqual(Set(dataset.sources).count, 70)
        XCTAssertTrue(dataset.splits.allSatisfy { $0 == .unassigned })
        for (source, label) in zip(dataset.sources, dataset.labels) {
            XCTAssertTrue(source.hasPrefix("synthetic/\(SyntheticShapes.classNames[Int(label)])/"), source)
        }
        XCTAssertTrue(dataset.sources.contains("synthetic/circle/00006"))
        // Labels are shuffled, not in blocks of one class.
        XCTAssertNotEqual(dataset.labels, dataset.labels.sorted())
    }

    func testImagesAreNotConstantAndImageMatchesDataset() throws {
        let shapes = SyntheticShapes(seed: 2)
        let dataset = try shapes.makeDataset(perClass: 3)
        for i in 0..<dataset.count {
            let image = dataset.image(at: i)
            XCTAssertGreaterThan(Int(image.pixels.max() ?? 0) - Int(image.pixels.min() ?? 0), 100, dataset.sources[i])
            XCTAssertEqual(image, shapes.image(index: i, label: Int(dataset.labels[i])))
        }
    }

    /// Same index, same colours and placement: only the class changes the picture.
    func testEveryClassDrawsSomethingDifferent() {
        let shapes = SyntheticShapes(seed: 5, noise: 0, clutter: 0)
        let images = (0..<10).map { shapes.image(index: 9, label: $0) }
        XCTAssertEqual(Set(images.map(\.pixels)).count, 10)
    }

    /// Mean-image statistics that only hold if the shapes are drawn as named: a filled circle
    /// is bright at the centre while a ring is hollow; horizontal stripes vary down a column,
    /// vertical stripes along a row.
    func testClassStatisticsDiffer() {
        let shapes = SyntheticShapes(seed: 8, noise: 0, clutter: 0)
        func mean(_ label: Int, _ statistic: (Image) -> Double) -> Double {
            (0..<40).map { statistic(shapes.image(index: $0, label: label)) }.reduce(0, +) / 40
        }
        func centreBrightness(_ image: Image) -> Double {
            let p = image[image.width / 2, image.height / 2]
            return Double(Int(p.r) + Int(p.g) + Int(p.b)) / 3
        }
        func change(_ image: Image, vertical: Bool) -> Double {
            var total = 0
            for y in 1..<image.height {
                for x in 1..<image.width {
                    let a = image[x, y], b = vertical ? image[x, y - 1] : image[x - 1, y]
                    total += abs(Int(a.g) - Int(b.g))
                }
            }
            return Double(total)
        }
        let circle = SyntheticShapes.classNames.firstIndex(of: "circle") ?? -1
        let ring = SyntheticShapes.classNames.firstIndex(of: "ring") ?? -1
        let horizontal = SyntheticShapes.classNames.firstIndex(of: "horizontal-stripes") ?? -1
        let vertical = SyntheticShapes.classNames.firstIndex(of: "vertical-stripes") ?? -1
        XCTAssertGreaterThan(mean(circle, centreBrightness), mean(ring, centreBrightness) + 40)
        XCTAssertGreaterThan(mean(horizontal) { change($0, vertical: true) },
                             2 * mean(horizontal) { change($0, vertical: false) })
        XCTAssertGreaterThan(mean(vertical) { change($0, vertical: false) },
                             2 * mean(vertical) { change($0, vertical: true) })
    }

    func testBadArgumentsAreRejected() {
        XCTAssertThrowsError(try SyntheticShapes().makeDataset(perClass: 0))
        XCTAssertThrowsError(try SyntheticShapes(imageSize: ImageSize(width: 4, height: 32)).makeDataset(perClass: 1))
    }
}
