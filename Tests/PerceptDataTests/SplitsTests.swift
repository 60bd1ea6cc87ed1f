import XCTest
import PerceptCore
@testable import PerceptData

/// Property tests: the dataset's sources are "#<original index>", so every item can be traced.
final class SplitsTests: XCTestCase {
    /// Four unbalanced classes (50, 31, 7, 12 items) in a scrambled order.
    func makeDataset(splits: [Split]? = nil) throws -> Dataset {
        let counts = [50, 31, 7, 12]
        var random = SeededRandom(seed: 99)
        let labels = counts.enumerated().flatMap { Array(repeating: Int32($0.offset), count: $0.element) }
            .shuffled(using: &random)
        return try Dataset(height: 1, width: 1, channels: 1,
                           pixels: PixelStorage(copying: labels.indices.map { UInt8($0 % 256) }),
                           labels: labels, classNames: ["a", "b", "c", "d"], splits: splits)
    }

    func items(_ dataset: Dataset) -> [Int] { dataset.sources.compactMap { Int($0.dropFirst()) } }

    func testSplitIsStratifiedDisjointCompleteAndOrdered() throws {
        let dataset = try makeDataset()
        for fractions in [(0.8, 0.1, 0.1), (0.5, 0.25, 0.25), (0.34, 0.33, 0.33), (1, 0, 0), (0, 0.3, 0.7)] {
            let splits = try dataset.split(train: fractions.0, validation: fractions.1, test: fractions.2, seed: 7)
            let parts = [(splits.train, fractions.0), (splits.validation, fractions.1), (splits.test, fractions.2)]
            for (part, fraction) in parts {
                for (label, total) in dataset.classCounts.enumerated() {
                    XCTAssertLessThanOrEqual(abs(Double(part.classCounts[label]) - Double(total) * fraction), 1,
                                             "class \(label) fraction \(fraction)")
                }
                XCTAssertEqual(items(part), items(part).sorted(), "original order kept")
                XCTAssertEqual(part.labels, items(part).map { dataset.labels[$0] })
            }
            let all = parts.flatMap { items($0.0) }
            XCTAssertEqual(all.count, dataset.count, "no item twice")
            XCTAssertEqual(Set(all), Set(0..<dataset.count), "every item somewhere")
        }
    }

    func testSplitIsDeterministicBySeed() throws {
        let dataset = try makeDataset()
        let a = try dataset.split(seed: 1), b = try dataset.split(seed: 1), c = try dataset.split(seed: 2)
        XCTAssertEqual(items(a.train), items(b.train))
        XCTAssertEqual(items(a.test), items(b.test))
        XCTAssertNotEqual(items(a.train), items(c.train))
    }

    func testPreassignedItemsKeepTheirSplit() throws {
        // Every fifth item was in a test folder, every seventh (not fifth) in a train folder.
        let marks: [Split] = (0..<100).map { $0 % 5 == 0 ? .test : $0 % 7 == 0 ? .train : .unassigned }
        let dataset = try makeDataset(splits: marks)
        let splits = try dataset.split(train: 0.5, validation: 0.5, test: 0, seed: 3)
        let train = Set(items(splits.train)), validation = Set(items(splits.validation)), test = Set(items(splits.test))
        XCTAssertEqual(test, Set(marks.indices.filter { marks[$0] == .test }), "test fraction 0: only the marked items")
        XCTAssertTrue(Set(marks.indices.filter { marks[$0] == .train }).isSubset(of: train))
        XCTAssertEqual(train.count + validation.count + test.count, 100)
        // The unassigned items alone are stratified half and half.
        for label in 0..<4 {
            let free = marks.indices.filter { marks[$0] == .unassigned && dataset.labels[$0] == Int32(label) }
            let inValidation = free.filter { validation.contains($0) }.count
            XCTAssertLessThanOrEqual(abs(Double(inValidation) - Double(free.count) / 2), 1)
        }
        XCTAssertEqual(splits.train.splits.filter { $0 == .test }.count, 0)
    }

    func testBadFractionsAreRejected() throws {
        let dataset = try makeDataset()
        for (train, validation, test) in [(0.5, 0.5, 0.5), (-0.1, 0.6, 0.5), (0.8, 0.1, 0.0999), (Double.nan, 0.5, 0.5)] {
            XCTAssertThrowsError(try dataset.split(train: train, validation: validation, test: test, seed: 0)) { error in
                XCTAssertEqual((error as? PerceptError)?.kind, .invalidArgument)
                XCTAssertTrue("\(error)".contains("validation \(validation)"), "\(error)")
            }
        }
        XCTAssertNoThrow(try dataset.split(train: 0.7, validation: 0.2, test: 0.1000000001, seed: 0))
    }

    func testKFoldValidatesEveryItemOnceAndIsStratified() throws {
        let dataset = try makeDataset()
        let folds = try dataset.kFoldIndices(folds: 5, seed: 4)
        XCTAssertEqual(folds.count, 5)
        var validatedTimes = [Int](repeating: 0, count: dataset.count)
        for fold in folds {
            for item in fold.validation { validatedTimes[item] += 1 }
            XCTAssertTrue(Set(fold.train).isDisjoint(with: fold.validation))
            XCTAssertEqual(fold.train.count + fold.validation.count, dataset.count)
            XCTAssertEqual(fold.validation.count, 20)
            let counts = dataset.subset(fold.validation).classCounts
            for (label, total) in dataset.classCounts.enumerated() {
                XCTAssertLessThanOrEqual(abs(Double(counts[label]) - Double(total) / 5), 1, "class \(label)")
            }
        }
        XCTAssertEqual(validatedTimes, [Int](repeating: 1, count: dataset.count))
        let again = try dataset.kFoldIndices(folds: 5, seed: 4), other = try dataset.kFoldIndices(folds: 5, seed: 5)
        XCTAssertEqual(again.map(\.validation), folds.map(\.validation))
        XCTAssertNotEqual(other.map(\.validation), folds.map(\.validation))
    }

    func testBadFoldCountsAreRejected() throws {
        let dataset = try makeDataset()
        XCTAssertThrowsError(try dataset.kFoldIndices(folds: 1, seed: 0))
        XCTAssertThrowsError(try dataset.kFoldIndices(folds: 8, seed: 0)) { error in
            XCTAssertTrue("\(error)".contains("smallest class has 7"), "\(error)")
        }
        XCTAssertNoThrow(try dataset.kFoldIndices(folds: 7, seed: 0))
    }

    func testLimitedCapsClassesAndSharesTheTotalInProportion() throws {
        let dataset = try makeDataset()
        XCTAssertEqual(dataset.limited(perClass: 5, total: nil, seed: 0).classCounts, [5, 5, 5, 5])
        XCTAssertEqual(dataset.limited(perClass: 10, total: nil, seed: 0).classCounts, [10, 10, 7, 10])
        // 20 of 100 in proportion: 10, 6.2, 1.4, 2.4 → 10, 6, 1, 2 and the leftover to the
        // lower of the two equal remainders (class c).
        XCTAssertEqual(dataset.limited(perClass: nil, total: 20, seed: 0).classCounts, [10, 6, 2, 2])
        // Capped at 10 first (37 items), then 20 of those: 5.41, 5.41, 3.78, 5.41 → 6, 5, 4, 5.
        XCTAssertEqual(dataset.limited(perClass: 10, total: 20, seed: 0).classCounts, [6, 5, 4, 5])
        XCTAssertEqual(dataset.limited(perClass: nil, total: nil, seed: 0).count, 100)
        XCTAssertEqual(dataset.limited(perClass: nil, total: 500, seed: 0).count, 100)
        XCTAssertEqual(dataset.limited(perClass: -1, total: nil, seed: 0).count, 0)

        let a = dataset.limited(perClass: 10, total: 20, seed: 1)
        XCTAssertEqual(items(a), items(dataset.limited(perClass: 10, total: 20, seed: 1)))
        XCTAssertNotEqual(items(a), items(dataset.limited(perClass: 10, total: 20, seed: 2)))
        XCTAssertEqual(items(a), items(a).sorted())
    }
}
