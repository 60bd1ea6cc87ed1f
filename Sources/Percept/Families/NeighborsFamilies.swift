import Foundation
import PerceptData
import PerceptImage
import PerceptModelKit
import PerceptModels
import PerceptReports

/// `--model knn`: the lecture's k-nearest neighbours on raw pixels.
public enum KNearestNeighborsFamily: ModelFamily {
    public static let name = "knn"
    public static let summary = "k-nearest neighbours on pixels (L1, L2 or cosine); nothing to train, every image kept"
    public static let parameters = [
        ModelParameter("k", .integer(minimum: 1), default: "1", help: "neighbours that vote"),
        ModelParameter("metric", .choice(DistanceMetric.allCases.map(\.rawValue)), default: "l2", help: "distance metric"),
        ModelParameter("weighting", .choice(KNearestNeighbors.Weighting.allCases.map(\.rawValue)), default: "uniform",
                       help: "how neighbours vote (distance: nearer votes count more)"),
    ]
    public static let modelTypes: [any ArchivableModel.Type] = [KNearestNeighbors.self, NearestNeighbor.self]
    /// The lecture's CIFAR-10 size: distances over larger photos cost more and separate no better.
    public static let defaultInputSize = ImageSize(width: 32, height: 32)

    /// The lecture's grid: k and the distance metric.
    public static func searchSpace(_ fixed: ModelSettings) -> [(name: String, values: [String])] {
        [("k", ["1", "3", "5", "7", "10", "20"]), ("metric", ["l1", "l2"])]
    }

    public static func fit(_ settings: ModelSettings, _ job: TrainingJob) throws -> FittedModel {
        var model = KNearestNeighbors(k: settings.integer("k") ?? 1,
                                      metric: settings.text("metric").flatMap(DistanceMetric.init(rawValue:)) ?? .l2,
                                      weighting: settings.text("weighting").flatMap(KNearestNeighbors.Weighting.init(rawValue:)) ?? .uniform,
                                      threads: job.threads)
        try model.fit(job.train)
        return FittedModel(model: model)
    }

    /// The cross-validation chart (models saved by `percept tune knn --save`) and a spread of
    /// evaluated images with their 10 nearest training images.
    public static func figures(for saved: SavedModel, evaluatedOn images: Dataset?) throws -> [ReportFigure] {
        var figures: [ReportFigure] = []
        if let text = saved.metadata["crossValidation"], let data = text.data(using: .utf8),
           let result = try? JSONDecoder().decode(CrossValidationResult.self, from: data) {
            figures.append(.svg(LineChart(crossValidation: result).svg(),
                                caption: "k-NN cross-validation: accuracy against k for each metric; dots are folds, "
                                    + "lines the means, bars one standard deviation."))
        }
        if let knn = saved.model as? KNearestNeighbors, let training = knn.trainingSet, let images, !images.isEmpty {
            let grid = try retrievalGrid(knn, training: training, queries: images)
            figures.append(.png(grid, alt: "nearest training images",
                                caption: "Evaluated images (left) and their 10 nearest training images by \(knn.metric): "
                                    + "framed green when the neighbour has the query's label, red when not."))
        }
        return figures
    }

    /// A spread of up to 8 query images, each with its 10 nearest training images.
    static func retrievalGrid(_ knn: KNearestNeighbors, training: Dataset, queries: Dataset) throws -> Image {
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
}

/// `--model ncm`: the mean image of each class; the nearest mean wins — the baseline.
public enum NearestClassMeanFamily: ModelFamily {
    public static let name = "ncm"
    public static let summary = "nearest class mean: one mean image per label, the baseline"
    public static let parameters: [ModelParameter] = []
    public static let modelTypes: [any ArchivableModel.Type] = [NearestClassMean.self]
    public static let defaultInputSize = ImageSize(width: 32, height: 32)

    public static func fit(_ settings: ModelSettings, _ job: TrainingJob) throws -> FittedModel {
        var model = NearestClassMean()
        try model.fit(job.train)
        return FittedModel(model: model)
    }

    public static func figures(for saved: SavedModel, evaluatedOn images: Dataset?) throws -> [ReportFigure] { [] }
}
