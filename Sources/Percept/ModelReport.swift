import Foundation
import PerceptCore
import PerceptData
import PerceptEvaluation
import PerceptImage
import PerceptModels
import PerceptReports
import PerceptModelKit

/// The one-page HTML report on a model, and on a dataset when one is given: what
/// `percept report` writes. Every picture is inline, so the file stands alone.
public struct ModelReport {
    public var model: SavedModel
    public var modelPath: String
    /// The dataset to describe and evaluate on, loaded at the model's input size with file
    /// records (for the statistics), and where it came from.
    public var data: (result: LoadResult, path: String)?
    /// The split evaluated (of `standardSplits` with the model's seed).
    public var split: Split = .test

    public init(model: SavedModel, modelPath: String, data: (result: LoadResult, path: String)? = nil) {
        self.model = model
        self.modelPath = modelPath
        self.data = data
    }

    /// Loads `dataPath` as the report needs it (model input size, file records for statistics).
    public static func loadData(_ dataPath: String, for model: SavedModel, threads: Int? = nil,
                                followLinks: Bool = false) throws -> LoadResult {
        try DatasetLoader.load(dataPath, options: ImportOptions(imageSize: model.inputSize, resizeMode: model.resizeMode,
                                                                threads: threads, collectRecords: true, followLinks: followLinks))
    }

    public func html() throws -> String {
        var page = HTMLDocument(title: "Percept report: \((modelPath as NSString).lastPathComponent)")
        modelSection(&page)
        var evaluated: Dataset?
        if let data {
            let inspection = DatasetInspection(source: data.path, result: data.result, modelInput: model.inputSize)
            datasetSection(&page, inspection)
            evaluated = try evaluationSection(&page, data.result.dataset, datasetPath: data.path)
        }
        try pictureSection(&page, images: evaluated)
        page.heading("Settings", level: 2, id: "settings")
        page.preformatted(model.settingsJSON)
        page.paragraph("Made by Percept \(PerceptVersion.current) on \(ISO8601DateFormatter().string(from: Date())).",
                       className: "footer")
        return page.rendered()
    }

    private func modelSection(_ page: inout HTMLDocument) {
        page.heading("Model", level: 2, id: "model")
        let meta = model.metadata
        var facts: [(String, String)] = [
            ("file", modelPath), ("family", model.kind),
            ("classes", "\(model.classNames.count): \(model.classNames.joined(separator: ", "))"),
            ("input", "\(model.inputShape[1])x\(model.inputShape[0])x\(model.inputShape[2]) (\(model.resizeMode.rawValue))"),
        ]
        if let size = try? FileManager.default.attributesOfItem(atPath: modelPath)[.size] as? Int {
            facts.append(("file size", "\(size) bytes"))
        }
        let named = [("recipe", "recipe"), ("dataset", "trained on"), ("trainedAt", "trained at"),
                     ("trainingSeconds", "training time (s)"), ("trainImages", "training images"),
                     ("validationImages", "validation images"), ("seed", "seed")]
        for (key, title) in named { if let value = meta[key] { facts.append((title, value)) } }
        if let accuracy = meta["validationAccuracy"].flatMap(Double.init) {
            facts.append(("validation accuracy", String(format: "%.2f%%", accuracy * 100)))
        }
        page.facts(facts)
    }

    private func datasetSection(_ page: inout HTMLDocument, _ inspection: DatasetInspection) {
        page.heading("Dataset", level: 2, id: "dataset")
        page.facts([("source", inspection.source), ("layout", inspection.layout), ("images", String(inspection.imageCount)),
                    ("labels", String(inspection.classes.count)),
                    ("original sizes", inspection.imageSizes.sorted { $0.value > $1.value }.prefix(5)
                        .map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))])
        let chart = BarChart(title: "Images per label",
                             bars: inspection.classes.map { ($0.name, $0.count) },
                             warnBelow: DatasetInspection.minimumImagesPerLabel)
        page.svg(chart.svg(), caption: "Images per label; orange bars have fewer than "
                 + "\(DatasetInspection.minimumImagesPerLabel) images, the AutoML minimum.")
        page.list(inspection.warnings.summarized(perKind: 4), className: "warnings")
        if !inspection.problems.isEmpty {
            page.table(headers: ["skipped file", "reason"],
                       rows: inspection.problems.prefix(50).map { [$0.path, $0.reason] },
                       caption: "\(inspection.problems.count) files could not be read")
        }
    }

    /// Evaluates the chosen split and returns its images at the model's input size (nil when empty).
    private func evaluationSection(_ page: inout HTMLDocument, _ dataset: Dataset, datasetPath: String) throws -> Dataset? {
        let (splits, notes) = try dataset.standardSplits(as: model)
        let part = split == .validation ? splits.validation : split == .train ? splits.train : splits.test
        page.heading("Evaluation on the \(split) split", level: 2, id: "evaluation")
        page.list(notes)
        guard !part.isEmpty else {
            page.paragraph("The \(split) split of this dataset is empty, so there is nothing to evaluate.")
            return nil
        }
        let images = try model.fitted(part)
        let evaluation = try Evaluation(model: model.model, on: images)
        page.facts([("images", String(evaluation.images)),
                    ("accuracy", String(format: "%.2f%%", evaluation.accuracy * 100)),
                    ("top-\(evaluation.topK) accuracy", String(format: "%.2f%%", evaluation.topKAccuracy * 100))])
        func cell(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "n/a" }
        var rows = evaluation.report.classes.map { [$0.name, cell($0.precision), cell($0.recall), cell($0.f1), String($0.support)] }
        for (name, average) in [("macro avg", evaluation.report.macroAverage), ("weighted avg", evaluation.report.weightedAverage)] {
            rows.append([name, cell(average.precision), cell(average.recall), cell(average.f1), String(average.support)])
        }
        page.table(headers: ["class", "precision", "recall", "F1", "support"], rows: rows,
                   caption: "Per-class metrics (n/a: the class was never predicted, so precision is undefined)")
        page.heatmapTable(rowLabels: evaluation.confusion.classNames, columnLabels: evaluation.confusion.classNames,
                          values: evaluation.confusion.counts, corner: "true \\ predicted",
                          caption: "Confusion matrix: rows are true labels, columns predictions")
        if !evaluation.mistakes.isEmpty {
            let sheet = evaluation.mistakeSheet(part)
            page.png(try sheet.pngData(), width: sheet.width, alt: "most confident mistakes",
                     caption: "The most confident mistakes: true label, the model's answer, its probability.")
        }
        return images
    }

    /// The family's own pictures (training curves, templates, retrievals among `images`).
    private func pictureSection(_ page: inout HTMLDocument, images: Dataset?) throws {
        guard let family = model.family else { return }
        let figures = try family.figures(for: model, evaluatedOn: images)
        guard !figures.isEmpty else { return }
        page.heading("The model's own pictures", level: 2, id: "pictures")
        for figure in figures {
            switch figure {
            case let .svg(svg, caption): page.svg(svg, caption: caption)
            case let .png(image, alt, caption): page.png(try image.pngData(), width: image.width, alt: alt, caption: caption)
            }
        }
    }
}
