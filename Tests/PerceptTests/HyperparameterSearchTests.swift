import XCTest
import Foundation
import Percept

final class HyperparameterSearchTests: XCTestCase {
    func testGridIsEveryCombinationInOrder() throws {
        let search = HyperparameterSearch(family: TwoLayerNetFamily.self,
                                          candidates: [("lr", ["0.1", "0.01"]), ("hidden", ["4", "8", "16"])])
        let values = try search.trialValues()
        XCTAssertEqual(values.count, 6)
        XCTAssertEqual(values.first, ["lr": "0.1", "hidden": "4"])
        XCTAssertEqual(values.last, ["lr": "0.01", "hidden": "16"])
        XCTAssertEqual(Set(values.map { "\($0["lr"]!) \($0["hidden"]!)" }).count, 6, "no combination twice")
    }

    func testRandomSamplesRatesLogUniformlyAndPicksWholeNumbers() throws {
        let search = HyperparameterSearch(family: TwoLayerNetFamily.self,
                                          candidates: [("lr", ["1e-4", "1e-1"]), ("hidden", ["10", "1000"])],
                                          strategy: .random(trials: 2000), seed: 7)
        let values = try search.trialValues()
        let rates = values.compactMap { $0["lr"].flatMap(Double.init) }
        XCTAssertEqual(rates.count, 2000)
        XCTAssertTrue(rates.allSatisfy { $0 >= 1e-4 * 0.999 && $0 <= 1e-1 * 1.001 })
        // Log-uniform: each decade of the three gets about a third of the samples.
        for decade in [(1e-4, 1e-3), (1e-3, 1e-2), (1e-2, 1e-1)] {
            let share = Double(rates.filter { $0 >= decade.0 && $0 < decade.1 }.count) / 2000
            XCTAssertEqual(share, 1.0 / 3, accuracy: 0.05, "\(decade)")
        }
        XCTAssertEqual(Set(values.compactMap { $0["hidden"] }), ["10", "1000"], "whole numbers pick a candidate")
        XCTAssertEqual(try search.trialValues(), values, "the same seed draws the same trials")
    }

    func testRunPicksTheBestOnValidationAndReportsDivergence() throws {
        let train = try SyntheticColours.dataset(perClass: 20, seed: 1), validation = try SyntheticColours.dataset(perClass: 8, seed: 2)
        let search = HyperparameterSearch(family: SoftmaxFamily.self, candidates: [("lr", ["1e-9", "1e-2", "1e30"])],
                                          fixed: ["epochs": "4", "batch": "20"])
        let result = try search.run(TrainingJob(train: train, validation: validation, seed: 1, threads: 1))
        XCTAssertEqual(result.trials.count, 3)
        let best = try XCTUnwrap(result.best)
        let measured = result.trials.compactMap(\.validationAccuracy)
        XCTAssertEqual(best.trial.validationAccuracy, measured.max())
        XCTAssertEqual(best.trial.values["lr"], "1e-2")
        XCTAssertNotNil(result.trials[2].failure, "a learning rate of 1e30 diverges: \(result.trials[2])")
        XCTAssertNil(result.trials[2].validationAccuracy)
        // The best model is the one measured: its accuracy on validation is the trial's.
        let again = try accuracy(predicted: best.model.model.predict(validation), truth: validation.labels)
        XCTAssertEqual(again, best.trial.validationAccuracy)
    }

    func testBadCandidatesAreRefusedBeforeTraining() throws {
        let train = try SyntheticColours.dataset(perClass: 4, seed: 1)
        let job = TrainingJob(train: train, validation: train)
        XCTAssertThrowsError(try HyperparameterSearch(family: SoftmaxFamily.self, candidates: [("lr", ["fast"])]).run(job))
        XCTAssertThrowsError(try HyperparameterSearch(family: SoftmaxFamily.self, candidates: [("depth", ["3"])]).run(job))
        XCTAssertThrowsError(try HyperparameterSearch(family: SoftmaxFamily.self, candidates: [("lr", [])]).run(job))
        XCTAssertThrowsError(try HyperparameterSearch(family: SoftmaxFamily.self, candidates: [("lr", ["0.1"])])
            .run(TrainingJob(train: train, validation: nil)))
    }
}

/// Each family's default search space holds values its own options accept.
final class SearchSpaceTests: XCTestCase {
    func testEveryDefaultSearchSpaceIsValid() throws {
        for family in ModelRegistry.families {
            for features in family.parameters.contains(where: { $0.name == "features" }) ? ["pixels", "hog-color"] : [""] {
                let fixed = features.isEmpty ? [:] : ["features": features]
                let space = family.searchSpace(try family.settings(fixed))
                let search = HyperparameterSearch(family: family, candidates: space, fixed: fixed)
                for values in try search.trialValues() where !space.isEmpty {
                    XCTAssertNoThrow(try family.settings(fixed.merging(values) { $1 }), "\(family.name) \(values)")
                }
            }
        }
        XCTAssertEqual(KNearestNeighborsFamily.searchSpace(try KNearestNeighborsFamily.settings()).map(\.name), ["k", "metric"])
        let hog = SoftmaxFamily.searchSpace(try SoftmaxFamily.settings(["features": "hog-color"]))
        let pixels = SoftmaxFamily.searchSpace(try SoftmaxFamily.settings())
        XCTAssertNotEqual(hog.first?.values, pixels.first?.values, "learning rates depend on the features")
    }
}
