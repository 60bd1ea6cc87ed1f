import Foundation
import Percept

/// `percept predict --scores`: the lecture's class-score table — the raw scores f(x, W) of every
/// class for each image (Wx + b for a linear model; any model's `scores`), before any softmax.
struct ImageScores: Codable, Equatable {
    struct ClassScore: Codable, Equatable {
        var label: String
        var score: Double
    }

    var path: String
    /// Every class in the model's order; empty when the file failed.
    var scores: [ClassScore]
    var error: String?
}

enum ScoreTable {
    /// Decodes `paths` as `SavedModel.predict(files:)` does (the shared importer, resized to the
    /// model's input) and scores
    /// the readable ones in one batch; unreadable files get an `error` unless `strict`.
    static func scores(of saved: SavedModel, files paths: [String], strict: Bool, threads: Int?) throws -> [ImageScores] {
        var answers = paths.map { ImageScores(path: $0, scores: [], error: nil) }
        let decoded = try ImageImporter.decode(files: paths, size: saved.inputSize, resizeMode: saved.resizeMode,
                                               classNames: saved.classNames, strict: strict, threads: threads)
        for (index, reason) in decoded.failures { answers[index].error = reason }
        guard let dataset = decoded.dataset else { return answers }
        let readable = decoded.readable, names = saved.classNames
        let scores = try saved.model.scores(for: dataset)
        guard scores.rows == readable.count, scores.columns == names.count else {
            throw PerceptError.invalidData("the model gave \(scores.shape) scores for \(readable.count) images and \(names.count) classes")
        }
        for (row, index) in readable.enumerated() {
            answers[index].scores = names.indices.map {
                ImageScores.ClassScore(label: names[$0], score: Double(scores.scalars[row * names.count + $0]))
            }
        }
        return answers
    }

    /// One row per class, one column per readable image (headed by its file name), right-aligned,
    /// three decimals: the layout of the lecture's airplane … truck table.
    static func render(_ answers: [ImageScores], classNames: [String]) -> String {
        let shown = answers.filter { $0.error == nil }
        let headers = shown.map { URL(fileURLWithPath: $0.path).lastPathComponent }
        let cells = classNames.indices.map { j in shown.map { String(format: "%.3f", $0.scores[j].score) } }
        let labelWidth = max(5, classNames.map(\.count).max() ?? 0)
        let widths = shown.indices.map { column in
            max(headers[column].count, cells.map { $0[column].count }.max() ?? 0)
        }
        func pad(_ text: String, _ width: Int, left: Bool) -> String {
            let space = String(repeating: " ", count: max(0, width - text.count))
            return left ? text + space : space + text
        }
        var lines = [([pad("class", labelWidth, left: true)] + headers.indices.map { pad(headers[$0], widths[$0], left: false) })
            .joined(separator: "  ")]
        for (j, name) in classNames.enumerated() {
            lines.append(([pad(name, labelWidth, left: true)] + cells[j].indices.map { pad(cells[j][$0], widths[$0], left: false) })
                .joined(separator: "  "))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
