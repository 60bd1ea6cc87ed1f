import PerceptModels
import PerceptModelKit

extension LineChart {
    /// The loss curve: minibatch loss per step, and the epoch means at the end of each epoch.
    public init(lossHistory history: TrainingHistory, title: String = "Training loss", width: Int = 720, height: Int = 440) {
        let steps = history.iterationLosses.enumerated().map {
            Point(x: Double($0.offset + 1), samples: [], mean: $0.element, spread: 0)
        }
        let perEpoch = max(1, history.epochLosses.isEmpty ? 1 : history.iterations / history.epochLosses.count)
        let epochs = history.epochLosses.enumerated().map {
            Point(x: Double(min(history.iterations, ($0.offset + 1) * perEpoch)), samples: [$0.element], mean: $0.element, spread: 0)
        }
        self.init(title: title, xLabel: "iteration", yLabel: "loss",
                  series: [Series(name: "batch", color: Self.palette[0], points: steps),
                           Series(name: "epoch mean", color: Self.palette[1], points: epochs)],
                  width: width, height: height)
    }

    /// Train and validation accuracy after each epoch.
    public init(accuracyHistory history: TrainingHistory, title: String = "Accuracy per epoch", width: Int = 720, height: Int = 440) {
        func points(_ values: [Double]) -> [Point] {
            values.enumerated().map { Point(x: Double($0.offset + 1), samples: [$0.element], mean: $0.element, spread: 0) }
        }
        var series = [Series(name: "train", color: Self.palette[0], points: points(history.trainAccuracies))]
        if !history.validationAccuracies.isEmpty {
            series.append(Series(name: "validation", color: Self.palette[2], points: points(history.validationAccuracies)))
        }
        self.init(title: title, xLabel: "epoch", yLabel: "accuracy", series: series, width: width, height: height)
    }
}
