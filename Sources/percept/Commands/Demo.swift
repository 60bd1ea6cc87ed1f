import ArgumentParser
import Foundation
import Percept
import PerceptCore
import PerceptData
import PerceptEvaluation
import PerceptImage
import PerceptModels
import PerceptReports
import PerceptModelKit

/// The whole pipeline on data that needs no download: import → train → evaluate → predict → report.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run import → train → evaluate → predict → report end to end on the built-in dataset (or yours).",
        discussion: """
            Draws Percept's synthetic dataset (ten classes of shapes and textures) as PNG folders, imports
            them, splits 80/10/10, chooses k-NN's k and metric by 5-fold cross-validation, trains the
            nearest-class-mean baseline, a softmax classifier and a small CNN, keeps the best on validation,
            evaluates it once on the test split, predicts a few image files with it and writes a report.

            With --data photos (larger than 64 px) and a backbone registered (`percept backbone add`),
            the images are imported at 256x256 (centre crop) and the CNN's place goes to the transfer
            family on that backbone, as `percept train` does without --model; --size keeps the classic tour.

            Examples:
              percept demo
              percept demo --data ~/photos --size 32x32 --output photos-demo
            """)

    @Option(help: "Folder for the dataset, pack, pictures and report.")
    var output = "demo-output"

    @Option(help: "Run on this dataset instead of the built-in one (any form `dataset import` reads).")
    var data: String?

    @Option(name: .customLong("per-class"), help: "Built-in dataset: images per class.")
    var perClass = 300

    @Option(help: "Image size WIDTHxHEIGHT (built-in data is drawn at it; other data is fitted to it; default 32x32, or 256x256 for photos when a backbone is registered).")
    var size: String?

    @Option(help: "Seed for the data, the split and everything random.")
    var seed: UInt64 = 0

    func validate() throws {
        guard perClass >= 10 else { throw ValidationError("--per-class must be at least 10 so every split has images") }
        if let size { _ = try ImageSize(parsing: size) }
    }

    func run() throws {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var tour = DemoTour(output: output, seed: seed)
        let dataset = try tour.importData(data, drawing: try ImageSize(parsing: size ?? "32x32"), sizeGiven: size != nil,
                                          perClass: perClass)
        let splits = try tour.split(dataset)
        let crossValidation = try tour.crossValidateNearestNeighbors(splits)
        let candidates = try tour.trainCandidates(splits, nearestNeighbors: crossValidation.best)
        let chosen = DemoTour.best(candidates)
        let evaluation = try tour.evaluate(chosen, against: candidates, on: splits)
        try tour.drawRetrievals(splits, metric: crossValidation.best.metric)
        let saved = try tour.predictFiles(with: chosen, splits)
        try tour.writeReports(saved, chosen: chosen, evaluation: evaluation, crossValidation: crossValidation)
    }
}

extension Demo {
    /// Marks a data folder the demo drew, so a later run may delete it and nothing else.
    static let marker = ".percept-demo"

    /// Removes a previous run's drawn data; refuses to touch a folder the demo did not make.
    static func replaceDemoFolder(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        guard FileManager.default.fileExists(atPath: "\(path)/\(marker)") else {
            throw PerceptError.invalidArgument(
                "\(path) exists and was not made by percept demo; choose another --output folder")
        }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw PerceptError.io(path, "cannot remove the previous demo data: \(error.localizedDescription)")
        }
    }
}

func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
