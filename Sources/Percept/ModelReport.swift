import Foundation
import PerceptCore
import PerceptData
import PerceptEvaluation
import PerceptImage
import PerceptModels
import PerceptNetwork
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
    public static func loadData(_ dataPath: String, for model: SavedModel, threads: Int? = nil) throws -> LoadResult {
        try DatasetLoader.load(dataPath, options: ImportOptions(imageSize: model.inputSize, resizeMode: model.resizeMode,
                                                                threads: threads, collectRecords: true))
    }

    public func html() throws -> String {
        var page = HTMLDocument(title: "Percept report: \((modelPath as NSString).lastPathComponent)")
        modelSection(&page)
        if let data {
            let inspection = DatasetInspection(source: data.path, result: data.result, modelInput: model.inputSize)
            datasetSection(&page, inspection)
            try evaluationSection(&page, data.result.dataset, datasetPath: data.path)
        }
        try pictureSection(&page)
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

    private func evaluationSection(_ page: inout HTMLDocument, _ dataset: Dataset, datasetPath: String) throws {
        let seed = model.metadata["seed"].flatMap { UInt64($0) } ?? 0
        let fraction = model.metadata["validationFraction"].flatMap { Double($0) } ?? 0.1
        let (splits, notes) = try dataset.standardSplits(seed: seed, validationFraction: fraction)
        let part = split == .validation ? splits.validation : split == .train ? splits.train : splits.test
        page.heading("Evaluation on the \(split) split", level: 2, id: "evaluation")
        page.list(notes)
        guard !part.isEmpty else {
            page.paragraph("The \(split) split of this dataset is empty, so there is nothing to evaluate.")
            return
        }
        let evaluation = try Evaluation(model: model.model, on: try model.fitted(part))
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
        if let knn = model.model as? KNearestNeighbors, let training = knn.trainingSet {
            let grid = try retrievalGrid(knn, training: training, queries: try model.fitted(part))
            page.png(try grid.pngData(), width: grid.width, alt: "nearest training images",
                     caption: "Test images (left) and their 10 nearest training images by \(knn.metric): "
                        + "framed green when the neighbour has the query's label, red when not.")
        }
        if !evaluation.mistakes.isEmpty {
            let sheet = evaluation.mistakeSheet(part)
            page.png(try sheet.pngData(), width: sheet.width, alt: "most confident mistakes",
                     caption: "The most confident mistakes: true label, the model's answer, its probability.")
        }
    }

    /// The loss and accuracy curves stored by `percept train` (metadata "history"), in the
    /// shape of the model's family: SGD epochs for linear models, epochs against wall time for CNNs.
    private func trainingCharts() -> [LineChart] {
        guard let data = model.metadata["history"]?.data(using: .utf8) else { return [] }
        if model.model is ConvNetClassifier, let history = try? JSONDecoder().decode(TrainingHistory.self, from: data) {
            func series(_ name: String, _ color: RGB, _ values: [(Double, Double?)]) -> LineChart.Series {
                LineChart.Series(name: name, color: color, points: values.compactMap { x, y in
                    y.map { LineChart.Point(x: x, samples: [], mean: $0 * 100, spread: 0) }
                })
            }
            let epochs = history.epochs
            return [LineChart(title: "Accuracy against wall time", xLabel: "seconds", yLabel: "accuracy (%)", series: [
                series("train", RGB(70, 120, 190), epochs.map { ($0.elapsedSeconds, $0.trainAccuracy) }),
                series("validation", RGB(210, 90, 40), epochs.map { ($0.elapsedSeconds, $0.validationAccuracy) }),
            ])]
        }
        if let history = try? JSONDecoder().decode(TrainingHistory.self, from: data), history.iterations > 0 {
            return [LineChart(lossHistory: history), LineChart(accuracyHistory: history)]
        }
        return []
    }

    /// A spread of up to 8 query images, each with its 10 nearest training images.
    private func retrievalGrid(_ knn: KNearestNeighbors, training: Dataset, queries: Dataset) throws -> Image {
        let chosen = Array(Swift.stride(from: 0, to: queries.count, by: max(1, queries.count / 8)).prefix(8))
        let sample = queries.subset(chosen)
        let neighbors = try KNearestNeighbors(k: min(10, training.count), metric: knn.metric).fitted(on: training)
            .neighbors(of: sample)
        let rows = (0..<sample.count).map { row in
            RetrievalGrid.Row(
                query: .init(image: sample.image(at: row), label: sample.classNames[Int(sample.labels[row])]),
                neighbors: neighbors.neighbors(of: row).map {
                    .init(image: training.image(at: Int($0)), label: training.classNames[Int(training.labels[Int($0)])])
                })
        }
        return RetrievalGrid(scale: training.width <= 48 ? 2 : 1).render(rows)
    }

    private func pictureSection(_ page: inout HTMLDocument) throws {
        var figures = HTMLDocument(title: "")
        var count = 0
        if let text = model.metadata["crossValidation"], let data = text.data(using: .utf8),
           let result = try? JSONDecoder().decode(CrossValidationResult.self, from: data) {
            figures.svg(LineChart(crossValidation: result).svg(),
                        caption: "k-NN cross-validation: accuracy against k for each metric; dots are folds, "
                            + "lines the means, bars one standard deviation.")
            count += 1
        }
        for chart in trainingCharts() {
            figures.svg(chart.svg(), caption: "Training curves recorded when the model was trained.")
            count += 1
        }
        if let linear = model.model as? LinearClassifier, linear.features.isPixels {
            let templates = try TemplateGrid().render(linear)
            figures.png(try templates.pngData(), width: templates.width, alt: "class templates",
                        caption: "The visual view of the linear classifier: each class's row of W as an image, "
                            + "rescaled to 0–255 — one template per class.")
            count += 1
        }
        guard count > 0 else { return }
        page.heading("The model's own pictures", level: 2, id: "pictures")
        page.append(figures)
    }
}

/// The version Percept reports in files it writes.
public enum PerceptVersion {
    public static let current = "0.2.0"
}
