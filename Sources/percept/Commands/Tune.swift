import ArgumentParser
import Foundation
import Percept
import PerceptCore
import PerceptData
import PerceptEvaluation
import PerceptModels
import PerceptReports
import PerceptModelKit

struct TuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tune",
        abstract: "Choose a model's hyper-parameters by cross-validation, without touching the test split.",
        subcommands: [TuneNearestNeighbors.self, TuneLinear.self, TuneSoftmax.self, TuneTwoLayerNet.self, TuneSearch.self])
}

/// `percept tune knn`: the lecture's cross-validation of k and the distance metric.
struct TuneNearestNeighbors: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "knn",
        abstract: "Cross-validate k-NN over a grid of k and distance metrics; draw the accuracy-by-k chart.",
        discussion: """
            Uses only items not marked test (the test split is for one final evaluation). Each fold's
            neighbours are searched once with the largest k; smaller k vote on a prefix of that list.
            Writes knn-cv.svg and knn-cv.png to --output.

            Examples:
              percept tune knn cifar10.pack --limit 5000
              percept tune knn ~/photos --size 32x32 --k 1,5,10 --metric l1 --folds 3
              percept tune knn data.pack --validation 0.2 --json
            """)

    @Argument(help: "A folder, CSV manifest, CIFAR binary folder, .pack or archive of these.")
    var path: String

    @Option(name: .customLong("k"), help: "Values of k to try, comma-separated.")
    var kList = "1,3,5,7,10,20,50,100"

    @Option(name: .customLong("metric"), help: "Distance metrics to try, comma-separated: l1, l2, cosine.")
    var metricList = "l1,l2"

    @Option(help: "Number of cross-validation folds (at least 2; at most the smallest class's size).")
    var folds: Int?

    @Option(help: "Instead of folds: hold out this fraction (between 0 and 1) of each class once, e.g. 0.1.")
    var validation: Double?

    @Option(help: "Seed for the folds and --limit.")
    var seed: UInt64 = 0

    @OptionGroup var loading: LoadingOptions

    @Option(help: "Tune on at most this many images (a stratified subset).")
    var limit: Int?

    @Option(help: "Folder for knn-cv.svg and knn-cv.png.")
    var output = "."

    @Flag(help: "Print the result as JSON on stdout.")
    var json = false

    @Option(help: "Save the best setting, fitted on all tuning images, as a model file (e.g. knn.percept).")
    var save: String?

    func validate() throws {
        _ = try ks()
        _ = try metrics()
        if let folds, folds < 2 {
            throw ValidationError("--folds must be at least 2 (got \(folds)); for a single split use --validation 0.1")
        }
        if let validation, !(validation > 0 && validation < 1) {
            throw ValidationError("--validation must lie strictly between 0 and 1 (got \(validation)), e.g. 0.1")
        }
        if folds != nil && validation != nil {
            throw ValidationError("give either --folds or --validation, not both")
        }
        if let limit, limit < 2 { throw ValidationError("--limit must be at least 2 (got \(limit))") }
    }

    func ks() throws -> [Int] {
        let values = kList.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("--k takes positive whole numbers separated by commas, e.g. 1,3,5,10 (got \(kList))")
        }
        return values.compactMap { $0 }
    }

    func metrics() throws -> [DistanceMetric] {
        let names = metricList.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let values = names.map { DistanceMetric(rawValue: $0) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else {
            throw ValidationError("--metric takes l1, l2 and/or cosine separated by commas, e.g. l1,l2 (got \(metricList))")
        }
        return values.compactMap { $0 }
    }

    func run() throws {
        Terminal.quiet = json
        let start = DispatchTime.now()
        let loaded = try loading.load(path, defaultSize: KNearestNeighborsFamily.defaultInputSize)
        reportProblems(loaded.problems, notes: loaded.notes)
        // The test split (as `percept train` and `evaluate` divide the data) is never looked at.
        let (all, notes) = try loaded.dataset.withStandardSplits(seed: seed)
        for note in notes { Terminal.info("note: \(note)") }
        let nonTest = all.splits.indices.filter { all.splits[$0] != .test }
        var tuning = all.subset(nonTest)
        if let limit { tuning = tuning.limited(perClass: nil, total: limit, seed: seed) }
        guard !tuning.isEmpty else {
            throw PerceptError.invalidData("every item is in the test split; nothing is left to tune on", path: path)
        }
        let heldBack = all.count - nonTest.count
        Terminal.info("tuning on \(tuning.count) images of \(tuning.classCount) labels"
                      + (heldBack > 0 ? " (\(heldBack) test images left untouched)" : ""))

        let validator = validation.map { CrossValidation(validationFraction: $0, seed: seed, threads: loading.threads) }
            ?? CrossValidation(folds: folds ?? 5, seed: seed, threads: loading.threads)
        let kValues = try ks(), metricValues = try metrics()
        Terminal.progress("cross-validating \(kValues.count) k × \(metricValues.count) metrics …")
        let result = try validator.evaluateNearestNeighbors(tuning, k: kValues, metrics: metricValues)
        Terminal.endProgress()

        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let chart = LineChart(crossValidation: result)
        let svgPath = "\(output)/knn-cv.svg", pngPath = "\(output)/knn-cv.png"
        try AtomicFile.write(chart.svg(), to: svgPath)
        try AtomicFile.write(Data(try chart.pngData()), to: pngPath)

        if let save {
            // The chosen setting, fitted on every tuning image; the chart travels with it for the report.
            var model = KNearestNeighbors(k: result.best.k, metric: result.best.metric, threads: loading.threads)
            try model.fit(tuning)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let metadata = [
                "dataset": path, "seed": String(seed), "trainImages": String(tuning.count),
                "recipe": "knn (tuned: \(validation.map { "validation \($0)" } ?? "\(folds ?? 5)-fold cross-validation"))",
                "crossValidationAccuracy": String(result.best.mean),
                "crossValidation": String(decoding: try encoder.encode(result), as: UTF8.self),
                "trainedAt": ISO8601DateFormatter().string(from: Date()),
            ]
            try ModelFile.write(model, to: save, resizeMode: loading.resizeMode.rawValue, metadata: metadata)
            if !json { print("saved k = \(result.best.k), \(result.best.metric) fitted on \(tuning.count) images to \(save)") }
        }
        if json {
            try Terminal.printJSON(Summary(result: result, chart: [svgPath, pngPath],
                                           seconds: Terminal.seconds(since: start)))
            return
        }
        print(Self.table(result))
        let best = result.best
        print("best: k = \(best.k), \(best.metric), mean accuracy \(percent(best.mean)) ± \(percent(best.standardDeviation))")
        print("wrote \(svgPath) and \(pngPath) in \(String(format: "%.2f", Terminal.seconds(since: start))) s")
    }

    struct Summary: Codable {
        var result: CrossValidationResult
        var chart: [String]
        var seconds: Double
    }

    /// One row per setting, columns aligned; the best row is starred.
    static func table(_ result: CrossValidationResult) -> String {
        let foldHeader = result.folds == 1 ? "validation" : "folds"
        var rows = [["k", "metric", "mean", "std", foldHeader]]
        for setting in result.settings {
            let star = setting == result.best ? " *" : ""
            rows.append([String(setting.k), setting.metric.rawValue, percent(setting.mean), percent(setting.standardDeviation),
                         setting.foldAccuracies.map(percent).joined(separator: " ") + star])
        }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                // Numbers right-aligned, the last column left as it is.
                column == 4 ? cell : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
