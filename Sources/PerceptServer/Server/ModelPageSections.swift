import Foundation
import Percept

/// The model page's views of the per-image test predictions: the confidence-threshold slider, the
/// images behind a confusion-matrix cell (both driven by the page's script from the predictions
/// embedded as JSON) and a precision–recall curve per label (drawn here).
enum ModelPageSections {
    /// What the script reads: compact rows `[datasetIndex, truth, predicted, confidence]`.
    struct Embedded: Encodable {
        var datasetId: Int64
        var classNames: [String]
        var items: [[Double]]
    }

    static let initialThreshold = 0.5

    static func threshold(_ predictions: TestPredictions) -> String {
        let embedded = Embedded(datasetId: predictions.datasetId, classNames: predictions.classNames,
                                items: predictions.items.map { [Double($0.index), Double($0.truth), Double($0.predicted), $0.confidence] })
        let metrics = ThresholdMetrics(threshold: initialThreshold, items: predictions.items)
        return """
            <section id="test-predictions" data-predictions="\(PageLayout.escaped(RunEvents.compactJSON(embedded)))">
            <h2>Confidence threshold</h2>
            <p class="muted">A prediction counts only when the model's probability reaches the threshold: a higher threshold
            trades recall for precision.</p>
            <label>Threshold <input type="range" class="threshold" min="0" max="1" step="0.01" value="\(initialThreshold)">
            <output class="threshold-value">\(String(format: "%.2f", initialThreshold))</output></label>
            <dl class="threshold-metrics">
            <dt>precision</dt><dd class="threshold-precision">\(PageLayout.percent(metrics.precision))</dd>
            <dt>recall</dt><dd class="threshold-recall">\(PageLayout.percent(metrics.recall))</dd>
            <dt>predictions counted</dt><dd class="threshold-counted">\(metrics.counted) of \(predictions.items.count)</dd>
            </dl>
            <h2 class="cell-title">Test images of a confusion-matrix cell</h2>
            <p class="cell-caption muted">Click a cell of the confusion matrix to see its test images.</p>
            <div class="cell-images thumbnails"></div>
            </section>
            """
    }

    /// One small chart per label: precision (up) against recall (across), with its average precision.
    static func precisionRecallCurves(_ predictions: TestPredictions) -> String {
        let charts = predictions.classNames.indices.map { label -> String in
            let curve = PrecisionRecallCurve(scores: predictions.items.map { label < $0.probabilities.count ? $0.probabilities[label] : 0 },
                                             positives: predictions.items.map { $0.truth == label })
            return "<figure class=\"pr-curve\">" + svg(curve) + "<figcaption>\(PageLayout.escaped(predictions.classNames[label])): "
                + (curve.points.isEmpty ? "no test images" : String(format: "average precision %.3f", curve.averagePrecision))
                + "</figcaption></figure>"
        }
        return "<h2>Precision–recall per label</h2>\n<div class=\"side-by-side\">" + charts.joined() + "</div>"
    }

    /// The step curve in a 160×160 plot with axes from 0 to 1.
    static func svg(_ curve: PrecisionRecallCurve) -> String {
        let size = 160.0, margin = 24.0
        func x(_ recall: Double) -> String { String(format: "%.1f", margin + recall * size) }
        func y(_ precision: Double) -> String { String(format: "%.1f", margin / 2 + (1 - precision) * size) }
        var path = ""
        if let first = curve.points.first {
            path = "M\(x(0)),\(y(first.precision))"
            for point in curve.points { path += " H\(x(point.recall)) V\(y(point.precision))" }
        }
        let width = Int(size + margin * 1.5), height = Int(size + margin * 1.5)
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
            role="img" aria-label="precision against recall">\
            <rect x="\(x(0))" y="\(y(1))" width="\(Int(size))" height="\(Int(size))" fill="none" stroke="#bbb"/>\
            <path d="\(path)" fill="none" stroke="#2a5db0" stroke-width="2"/>\
            <text x="\(x(0.5))" y="\(height - 2)" font-size="10" text-anchor="middle">recall</text>\
            <text x="9" y="\(y(0.5))" font-size="10" text-anchor="middle" transform="rotate(-90 9 \(y(0.5)))">precision</text>\
            </svg>
            """
    }
}
