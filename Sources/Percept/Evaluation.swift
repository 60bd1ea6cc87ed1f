import PerceptCore
import PerceptData
import PerceptEvaluation
import PerceptModels
import PerceptImage
import PerceptReports
import Foundation
import PerceptModelKit
import PerceptDistributed

/// How a model did on labelled images: what `percept evaluate` prints and `--json` writes.
public struct Evaluation: Sendable, Codable {
    /// A wrong prediction, with the probability the model gave its (wrong) answer.
    public struct Mistake: Sendable, Codable, Equatable {
        /// Index into the evaluated dataset.
        public var index: Int
        public var source: String
        public var truth: String
        public var predicted: String
        public var probability: Double
    }

    public var images: Int
    public var accuracy: Double
    /// Top-5 accuracy as ImageNet reports it (top-k with k = min(5, classes)).
    public var topKAccuracy: Double
    public var topK: Int
    public var report: ClassificationReport
    public var confusion: ConfusionMatrix
    /// The most confident mistakes first.
    public var mistakes: [Mistake]

    /// Scores `model` on every item of `dataset` against its labels.
    ///
    /// Labels are matched by name, so the data may hold fewer classes than the model, in any order.
    ///
    /// With a `communicator` of several ranks (`percept evaluate --distributed`), a k-NN model's
    /// search is split across them and the result is the single-process one on every rank.
    ///
    /// - Throws: `.invalidData` if the dataset is empty or has a label the model does not know;
    ///   `.unsupported` for a model other than k-NN in a job of several ranks.
    public init(model: any Classifier, on dataset: Dataset, mistakeLimit: Int = 40,
                communicator: Communicator = SingleProcess()) throws {
        guard !dataset.isEmpty else { throw PerceptError.invalidData("there are no images to evaluate on") }
        let labelMap = try dataset.classNames.map { name -> Int32 in
            guard let index = model.classNames.firstIndex(of: name) else {
                throw PerceptError.invalidData("the data has the label \"\(name)\", which the model does not know "
                    + "(it knows \(model.classNames.joined(separator: ", ")))")
            }
            return Int32(index)
        }
        let truth = dataset.labels.map { labelMap[Int($0)] }
        let k = min(5, model.classNames.count)
        let (rankings, probabilities) = try model.classRankingWithProbabilities(dataset, k: k, communicator: communicator)
        let predicted = rankings.map { Int32($0.first ?? 0) }
        let c = model.classNames.count
        confusion = try ConfusionMatrix(truth: truth, predicted: predicted, classNames: model.classNames)
        report = ClassificationReport(confusion)
        images = dataset.count
        accuracy = confusion.accuracy
        topK = k
        topKAccuracy = try PerceptEvaluation.topKAccuracy(rankings: rankings, truth: truth, k: k)
        let wrong = truth.indices.filter { predicted[$0] != truth[$0] }
        mistakes = wrong.map { index in
            Mistake(index: index, source: dataset.sources[index], truth: model.classNames[Int(truth[index])],
                    predicted: model.classNames[Int(predicted[index])],
                    probability: Double(probabilities.scalars[index * c + Int(predicted[index])]))
        }
        .sorted { $0.probability != $1.probability ? $0.probability > $1.probability : $0.index < $1.index }
        .prefix(mistakeLimit).map { $0 }
    }
}

extension Evaluation {
    /// The most confident mistakes as a picture: each image framed red, its true label, the
    /// model's answer and its confidence below. `dataset` is the one evaluated.
    public func mistakeSheet(_ dataset: Dataset, limit: Int = 32) -> Image {
        let cells = mistakes.prefix(limit).map { mistake in
            CaptionedGrid.Cell(image: dataset.image(at: mistake.index),
                               captions: ["is " + mistake.truth, "not " + mistake.predicted,
                                          String(format: "%.0f%%", mistake.probability * 100)],
                               frame: RGB(210, 40, 40))
        }
        return CaptionedGrid(columns: 8, scale: dataset.width <= 48 ? 2 : 1).render(cells)
    }
}

extension ConfusionMatrix {
    /// The matrix as a heatmap (true labels down, predictions across, counts in the cells, the
    /// diagonal outlined): `confusion.svg` / `.png` of `percept evaluate --output`.
    public func heatmap() throws -> Heatmap {
        let largest = Double(max(1, counts.flatMap { $0 }.max() ?? 1))
        // Wide enough for the longest label in the 6-pixel raster font, so column labels never overlap.
        let width = max(44, min(130, (classNames.map(\.count).max() ?? 0) * 6 + 10))
        return try Heatmap(title: "Confusion matrix", rowTitle: "true label", columnTitle: "predicted label",
                           rowLabels: classNames, columnLabels: classNames,
                           values: counts.map { $0.map { Double($0) } }, format: .integer, range: 0...largest,
                           highlighted: classNames.indices.map { ($0, $0) }, cellWidth: width, cellHeight: 26)
    }
}
