import Foundation
import PerceptModelKit
import PerceptReports

/// The training curves `percept train` stores with a model (metadata "history"), drawn the way
/// each kind of training reads best.
enum TrainingCurves {
    static func history(of saved: SavedModel) -> TrainingHistory? {
        guard let data = saved.metadata["history"]?.data(using: .utf8) else { return nil }
        return try? JSONDecoder().decode(TrainingHistory.self, from: data)
    }

    /// Loss per step and accuracy per epoch: minibatch SGD on a linear model or the two-layer net.
    static func perEpoch(_ saved: SavedModel) -> [ReportFigure] {
        guard let history = history(of: saved), history.iterations > 0 else { return [] }
        return [LineChart(lossHistory: history), LineChart(accuracyHistory: history)].map {
            .svg($0.svg(), caption: "Training curves recorded when the model was trained.")
        }
    }

    /// Train and validation accuracy against wall-clock seconds: a CNN run.
    static func againstWallTime(_ saved: SavedModel) -> [ReportFigure] {
        guard let history = history(of: saved), !history.epochs.isEmpty else { return [] }
        func series(_ name: String, _ color: RGB, _ values: [(Double, Double?)]) -> LineChart.Series {
            LineChart.Series(name: name, color: color, points: values.compactMap { x, y in
                y.map { LineChart.Point(x: x, samples: [], mean: $0 * 100, spread: 0) }
            })
        }
        let epochs = history.epochs
        let chart = LineChart(title: "Accuracy against wall time", xLabel: "seconds", yLabel: "accuracy (%)", series: [
            series("train", RGB(70, 120, 190), epochs.map { ($0.elapsedSeconds, $0.trainAccuracy) }),
            series("validation", RGB(210, 90, 40), epochs.map { ($0.elapsedSeconds, $0.validationAccuracy) }),
        ])
        return [.svg(chart.svg(), caption: "Training curves recorded when the model was trained.")]
    }
}
