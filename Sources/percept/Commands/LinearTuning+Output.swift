import Foundation
import Percept
import PerceptCore
import PerceptData
import PerceptModels
import PerceptReports

extension LinearTuning {
    /// Train and validation images from the non-test part of the standard splits; with
    /// --validation, the non-test images are divided afresh by that fraction.
    func splitData(_ dataset: Dataset) throws -> (train: Dataset, validation: Dataset) {
        let (all, notes) = try dataset.withStandardSplits(seed: options.seed)
        for note in notes { Terminal.info("note: \(note)") }
        var tuning = all.subset(all.splits.indices.filter { all.splits[$0] != .test })
        if let limit = options.limit { tuning = tuning.limited(perClass: nil, total: limit, seed: options.seed) }
        if let fraction = options.validation {
            tuning.splits = Array(repeating: .unassigned, count: tuning.count)
            let parts = try tuning.split(train: 1 - fraction, validation: fraction, test: 0, seed: options.seed)
            return (parts.train, parts.validation)
        }
        let train = tuning.items(in: .train), validation = tuning.items(in: .validation)
        guard !train.isEmpty, !validation.isEmpty else {
            throw PerceptError.invalidData("need both training and validation images to tune; got \(train.count) and \(validation.count) "
                                           + "(try --validation 0.1)", path: options.path)
        }
        return (train, validation)
    }

    static func label(_ value: Float) -> String {
        String(format: "%g", value)
    }

    /// The heatmap of validation accuracy (best over hidden sizes), the best setting's curves and,
    /// for linear models on pixels, its templates. Returns the paths written.
    func writePictures(trials: [Trial], best: (trial: Trial, model: FittedModel)?) throws -> [String] {
        try FileManager.default.createDirectory(atPath: options.output, withIntermediateDirectories: true)
        let prefix = "\(options.output)/\(family.rawValue)"
        var files: [String] = []
        func write(_ text: String, _ path: String) throws { try AtomicFile.write(text, to: path); files.append(path) }
        func write(_ bytes: [UInt8], _ path: String) throws { try AtomicFile.write(Data(bytes), to: path); files.append(path) }

        let rates = Array(Set(trials.map(\.learningRate))).sorted(), strengths = Array(Set(trials.map(\.regularization))).sorted()
        var values = [[Double?]](repeating: [Double?](repeating: nil, count: strengths.count), count: rates.count)
        for trial in trials {
            guard let row = rates.firstIndex(of: trial.learningRate), let column = strengths.firstIndex(of: trial.regularization) else { continue }
            let accuracy = trial.validationAccuracy ?? .nan  // diverged: a grey "–" cell
            if let current = values[row][column], !current.isNaN, !(accuracy > current) { continue }
            values[row][column] = accuracy
        }
        let highlight = best.flatMap { best in
            rates.firstIndex(of: best.trial.learningRate).flatMap { row in
                strengths.firstIndex(of: best.trial.regularization).map { [(row: row, column: $0)] }
            }
        } ?? []
        let heatmap = try Heatmap(title: "\(family.rawValue): validation accuracy", rowTitle: "learning rate",
                                  columnTitle: "regularization", rowLabels: rates.map(Self.label),
                                  columnLabels: strengths.map(Self.label), values: values, highlighted: highlight)
        try write(heatmap.svg(), "\(prefix)-tuning.svg")
        try write(try heatmap.pngData(), "\(prefix)-tuning.png")

        guard let best, let history = best.model.history else { return files }
        let setting = "lr \(Self.label(best.trial.learningRate)), reg \(Self.label(best.trial.regularization))"
        let loss = LineChart(lossHistory: history, title: "\(family.rawValue) loss (\(setting))")
        try write(loss.svg(), "\(prefix)-loss.svg")
        try write(try loss.pngData(), "\(prefix)-loss.png")
        let accuracy = LineChart(accuracyHistory: history, title: "\(family.rawValue) accuracy (\(setting))")
        try write(accuracy.svg(), "\(prefix)-accuracy.svg")
        try write(try accuracy.pngData(), "\(prefix)-accuracy.png")
        if let model = best.model.model as? LinearClassifier, model.features.isPixels {
            try write(try TemplateGrid().render(model).pngData(), "\(prefix)-templates.png")
        }
        return files
    }

    /// One row per setting, numbers right-aligned; the best row is starred.
    func table(_ trials: [Trial], best: Trial?) -> String {
        let withHidden = family == .twoLayerNet
        var rows = [["lr", "reg"] + (withHidden ? ["hidden"] : []) + ["train", "validation", "epochs", "seconds"]]
        for trial in trials {
            let isBest = best.map { $0.learningRate == trial.learningRate && $0.regularization == trial.regularization
                && $0.hidden == trial.hidden } ?? false
            rows.append([Self.label(trial.learningRate), Self.label(trial.regularization)]
                        + (withHidden ? [trial.hidden.map(String.init) ?? ""] : [])
                        + [trial.trainAccuracy.map(percent) ?? "–", trial.validationAccuracy.map(percent) ?? "diverged",
                           String(trial.epochs), String(format: "%.1f", trial.seconds) + (isBest ? " *" : "")])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in String(repeating: " ", count: max(0, widths[column] - cell.count)) + cell }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
