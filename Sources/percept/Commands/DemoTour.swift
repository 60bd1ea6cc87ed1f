import Foundation
import Percept

/// The steps of `percept demo`, in the order the lecture tells them: import → split → tune k-NN
/// → train the candidates → evaluate once → predict files → report. Each step adds its section
/// to the demo's report and writes its pictures to `output`.
struct DemoTour {
    /// A model trained on the training split, saved under `models/`, measured on validation.
    struct Candidate {
        var name: String
        var path: String
        var model: any ArchivableModel
        var validationAccuracy: Double
    }

    /// What the evaluation step hands on to the report.
    struct TestResult {
        var evaluation: Evaluation
        var top3Accuracy: Double
        var testAccuracies: [(name: String, accuracy: Double)]
    }

    let output: String
    let seed: UInt64
    let started = DispatchTime.now()
    var report = DemoReport()
    var packPath: String { "\(output)/dataset.pack" }
    /// The dataset's path as the user gave it (or the drawn folder), for model metadata.
    private(set) var source = ""
    private(set) var classCount = 0
    /// The registered backbone the transfer candidate uses, when the data are photos (`importData`).
    private(set) var transferBackbone: String?

    init(output: String, seed: UInt64) {
        self.output = output
        self.seed = seed
    }

    /// 1. Import: real files through the real decoders (the built-in set is drawn as PNG folders
    /// first), then a pack, reloaded as every later step reads it.
    mutating func importData(_ data: String?, drawing imageSize: ImageSize, sizeGiven: Bool = true,
                             perClass: Int) throws -> Dataset {
        let step = DispatchTime.now()
        if let data {
            source = data
        } else {
            source = "\(output)/data"
            try Demo.replaceDemoFolder(source)
            let drawn = try SyntheticShapes(imageSize: imageSize, seed: seed).makeDataset(perClass: perClass)
            try writeImageFolders(drawn, to: source)
            try AtomicFile.write("made by percept demo; deleted and redrawn by the next run\n", to: "\(source)/\(Demo.marker)")
            Terminal.info("drew \(drawn.count) images of \(drawn.classCount) classes into \(source)/<class>/*.png")
        }
        var loaded: LoadResult?
        if data != nil, !sizeGiven, let backbone = try? BackboneStore().list().first {
            // Photos at the transfer family's input (centre crop keeps shapes); small images keep the classic tour.
            var options = ImportOptions(resizeMode: .centerCrop)
            options.largestNaturalSize = TransferFamily.defaultInputSize
            let photos = try DatasetLoader.load(source, options: options)
            if TransferFamily.suitsByDefault(imageSize: photos.dataset.imageSize) != nil {
                transferBackbone = backbone.name
                loaded = photos
                Terminal.info("using transfer learning with backbone \(backbone.name) at 256x256; --size to choose the classic tour")
            }
        }
        let imported = try loaded ?? DatasetLoader.load(source, options: ImportOptions(imageSize: imageSize))
        reportProblems(imported.problems, notes: imported.notes)
        try PackFile.write(imported.dataset, to: packPath)
        let dataset = try PackFile.load(packPath)
        classCount = dataset.classCount
        report.add("Import", seconds: step, """
            \(dataset.count) images from `\(source)` (\(imported.layout?.rawValue ?? "?")), \(dataset.classCount) labels, \
            \(dataset.width)x\(dataset.height); \(imported.problems.count) files skipped; packed to `dataset.pack`.
            """)
        report.classCounts = zip(dataset.classNames, dataset.classCounts).map { ($0, $1) }
        return dataset
    }

    /// 2. Split: stratified 80/10/10 (items a source already assigned keep their split).
    mutating func split(_ dataset: Dataset) throws -> DatasetSplits {
        let shares = StandardSplit.proportions
        let splits = try dataset.split(train: shares.train, validation: shares.validation, test: shares.test, seed: seed)
        guard splits.train.count > 0, splits.validation.count > 0, splits.test.count > 0 else {
            throw PerceptError.invalidData("too few images to split 80/10/10 into non-empty parts", path: source)
        }
        report.add("Split", """
            train \(splits.train.count), validation \(splits.validation.count), test \(splits.test.count) \
            (stratified, seed \(seed)); the test split is used once, at the end.
            """)
        return splits
    }

    /// 3a. k-NN's k and metric by 5-fold cross-validation on the training split, the lecture's way.
    mutating func crossValidateNearestNeighbors(_ splits: DatasetSplits) throws -> CrossValidationResult {
        let kValues = [1, 3, 5, 7, 10, 20].filter { $0 <= splits.train.count * 4 / 5 }
        let result = try CrossValidation(folds: 5, seed: seed)
            .evaluateNearestNeighbors(splits.train, k: kValues, metrics: [.l1, .l2])
        let chart = LineChart(crossValidation: result)
        try AtomicFile.write(chart.svg(), to: "\(output)/knn-cv.svg")
        try AtomicFile.write(Data(try chart.pngData()), to: "\(output)/knn-cv.png")
        report.tuning = result.settings.map {
            ("k=\($0.k) \($0.metric)", "\(percent($0.mean)) ± \(percent($0.standardDeviation))")
        }
        return result
    }

    /// 3b. The candidates, each trained through its registered family and saved under `models/`:
    /// nearest class mean (the baseline), the tuned k-NN, a softmax classifier and a small CNN.
    mutating func trainCandidates(_ splits: DatasetSplits, nearestNeighbors best: CrossValidationResult.Setting) throws -> [Candidate] {
        let step = DispatchTime.now()
        try FileManager.default.createDirectory(atPath: "\(output)/models", withIntermediateDirectories: true)
        let plans: [(name: String, family: any ModelFamily.Type, settings: [String: String])] = [
            ("nearest-class-mean", NearestClassMeanFamily.self, [:]),
            ("knn", KNearestNeighborsFamily.self, ["k": String(best.k), "metric": best.metric.rawValue]),
            ("softmax", SoftmaxFamily.self, ["lr": "1e-2", "reg": "1e-3", "decay": "0.9", "batch": "100", "epochs": "15"]),
            transferBackbone.map { ("transfer", TransferFamily.self, ["backbone": $0]) }
                ?? ("cnn", ConvNetFamily.self, ["arch": "tiny", "epochs": "6", "batch": "64"]),
        ]
        var candidates: [Candidate] = []
        for plan in plans {
            let job = TrainingJob(train: splits.train, validation: splits.validation, seed: seed)
            let trained = try plan.family.train(try plan.family.settings(plan.settings), job)
            let path = "\(output)/models/\(plan.name).percept"
            var metadata = ["dataset": source, "seed": String(seed), "recipe": plan.name, "family": plan.family.name,
                            "validationAccuracy": String(trained.validationAccuracy ?? 0)]
            metadata["history"] = trained.historyJSON
            try ModelFile.write(trained.model, to: path, resizeMode: transferBackbone == nil ? "squash" : "center-crop",
                                metadata: metadata)
            candidates.append(Candidate(name: plan.name, path: path, model: trained.model,
                                        validationAccuracy: trained.validationAccuracy ?? 0))
            if plan.name == "softmax", let linear = trained.model as? LinearClassifier, let history = trained.history {
                try AtomicFile.write(Data(try TemplateGrid().render(linear).pngData()), to: "\(output)/softmax-templates.png")
                let lossChart = LineChart(lossHistory: history)
                try AtomicFile.write(lossChart.svg(), to: "\(output)/softmax-loss.svg")
                try AtomicFile.write(Data(try lossChart.pngData()), to: "\(output)/softmax-loss.png")
            }
        }
        let validation = Dictionary(uniqueKeysWithValues: candidates.map { ($0.name, $0.validationAccuracy) })
        let chosen = Self.best(candidates)
        Terminal.info("validation accuracy: " + candidates.map { "\($0.name) \(percent($0.validationAccuracy))" }
            .joined(separator: "; ") + "; best: \(chosen.name)")
        report.add("Train", seconds: step, """
            Nearest class mean (baseline): validation accuracy \(percent(validation["nearest-class-mean"] ?? 0)). \
            k-NN on raw pixels, k and metric chosen by 5-fold cross-validation on the training split: best k = \(best.k), \
            \(best.metric) (\(percent(best.mean)) ± \(percent(best.standardDeviation))); validation accuracy \
            \(percent(validation["knn"] ?? 0)). Softmax classifier on mean-subtracted pixels, 15 epochs of minibatch SGD \
            with momentum: validation accuracy \(percent(validation["softmax"] ?? 0)); its class templates are \
            `softmax-templates.png`, its loss curve `softmax-loss.svg`. \(deepCandidate(validation)) Every model is saved under `models/`; \
            the best on validation, \(chosen.name), is evaluated on the test split and gets the HTML report `report.html`.
            """)
        return candidates
    }

    /// The Train section's sentence on the CNN, or on the transfer family that takes its place for photos.
    private func deepCandidate(_ validation: [String: Double]) -> String {
        if let transferBackbone {
            return "Transfer learning (\(transferBackbone)'s frozen features, softmax head, L2 chosen on validation): "
                + "validation accuracy \(percent(validation["transfer"] ?? 0))."
        }
        return "A small CNN (`tiny`: conv–BN–ReLU blocks, 6 epochs, flips and shifts): validation accuracy "
            + "\(percent(validation["cnn"] ?? 0))."
    }

    /// The candidate with the highest validation accuracy (the first of equals).
    static func best(_ candidates: [Candidate]) -> Candidate {
        candidates.max { $0.validationAccuracy < $1.validationAccuracy } ?? candidates[0]
    }

    /// 4. Evaluate once on the test split: the model chosen on validation in full, the others'
    /// accuracy beside it (reported, not used to choose), and a picture of its answers.
    mutating func evaluate(_ chosen: Candidate, against candidates: [Candidate], on splits: DatasetSplits) throws -> TestResult {
        let step = DispatchTime.now()
        let test = splits.test
        let evaluation = try Evaluation(model: chosen.model, on: test)
        // One ranking pass of the chosen model gives its top-3 and the picture below; the others predict once.
        let top3 = min(3, classCount)
        let rankings = try chosen.model.topK(test, k: top3)
        let top3Accuracy = try topKAccuracy(rankings: rankings, truth: test.labels, k: top3)
        let testAccuracies = try candidates.map {
            ($0.name, $0.name == chosen.name ? evaluation.accuracy
                : try accuracy(predicted: $0.model.predict(test), truth: test.labels))
        }
        report.add("Evaluate", seconds: step, """
            Test accuracy of the model chosen on validation, \(chosen.name): \(percent(evaluation.accuracy)) \
            (top-\(top3) \(percent(top3Accuracy))). The others on the same split: \
            \(testAccuracies.filter { $0.0 != chosen.name }.map { "\($0.0) \(percent($0.1))" }.joined(separator: ", ")); \
            chance \(percent(1 / Double(classCount))).
            """)
        report.classification = evaluation.report.rendered()
        report.confusion = evaluation.confusion.rendered()
        // A spread of test images (the split keeps class order), framed green when right, red when wrong.
        let shown = Array(Swift.stride(from: 0, to: test.count, by: max(1, test.count / 40)).prefix(40))
        let grid = ImageGrid(columns: 10, scale: 2).render(shown.map { index in
            ImageGrid.Cell(image: test.image(at: index),
                           border: Int32(rankings[index][0]) == test.labels[index] ? ImageGrid.right : ImageGrid.wrong)
        })
        try AtomicFile.write(Data(try grid.pngData()), to: "\(output)/test-predictions.png")
        return TestResult(evaluation: evaluation, top3Accuracy: top3Accuracy, testAccuracies: testAccuracies)
    }

    /// The lecture's retrieval picture: a few test images and their 10 nearest training images.
    func drawRetrievals(_ splits: DatasetSplits, metric: DistanceMetric) throws {
        let queryIndices = Array(Swift.stride(from: 0, to: splits.test.count, by: max(1, splits.test.count / 8)).prefix(8))
        let queries = splits.test.subset(queryIndices)
        let found = try ByteIndex(dataset: splits.train, metric: metric).search(queries, k: min(10, splits.train.count))
        let retrievals = RetrievalGrid(scale: 2).render(queryIndices.indices.map { row in
            RetrievalGrid.Row(
                query: .init(image: queries.image(at: row), label: queries.classNames[Int(queries.labels[row])]),
                neighbors: found.neighbors(of: row).map { index in
                    .init(image: splits.train.image(at: Int(index)),
                          label: splits.train.classNames[Int(splits.train.labels[Int(index)])])
                })
        })
        try AtomicFile.write(Data(try retrievals.pngData()), to: "\(output)/retrievals.png")
    }

    /// 5. Predict: image files handed to the chosen model's saved file, exactly as `percept predict` does.
    mutating func predictFiles(with chosen: Candidate, _ splits: DatasetSplits) throws -> SavedModel {
        let step = DispatchTime.now()
        let saved = try SavedModel.load(chosen.path)
        let picks = Array(Swift.stride(from: 0, to: splits.test.count, by: max(1, splits.test.count / 5)).prefix(5))
        let answers = try saved.predict(files: picks.map { splits.test.sources[$0] }, top: min(3, classCount))
        var lines: [String] = []
        for (row, answer) in answers.enumerated() {
            let truth = splits.test.classNames[Int(splits.test.labels[picks[row]])]
            let guesses = answer.error.map { "unreadable: \($0)" }
                ?? answer.top.map { "\($0.label) \(percent($0.probability))" }.joined(separator: ", ")
            lines.append("- `\(answer.path)` (true: \(truth)): " + guesses)
        }
        report.add("Predict", seconds: step, "With `models/\(chosen.name).percept`:\n" + lines.joined(separator: "\n"))
        for line in lines { print(line.dropFirst(2)) }
        return saved
    }

    /// 6. Report: the chosen model as `percept report` writes it, the tour in Markdown, and the
    /// numbers as JSON (keys kept from earlier versions; validation and test figures are the chosen model's).
    func writeReports(_ saved: SavedModel, chosen: Candidate, evaluation result: TestResult,
                      crossValidation: CrossValidationResult) throws {
        var html = ModelReport(model: saved, modelPath: chosen.path)
        html.data = (try ModelReport.loadData(packPath, for: saved), packPath)
        try AtomicFile.write(try html.html(), to: "\(output)/report.html")
        try AtomicFile.write(report.markdown(totalSeconds: Terminal.seconds(since: started)), to: "\(output)/report.md")
        let test = Dictionary(uniqueKeysWithValues: result.testAccuracies.map { ($0.name, $0.accuracy) })
        let best = crossValidation.best
        try AtomicFile.write(try DemoReport.json([
            "validationAccuracy": chosen.validationAccuracy, "testAccuracy": result.evaluation.accuracy,
            "testTop3Accuracy": result.top3Accuracy, "crossValidationMean": best.mean, "knnTestAccuracy": test["knn"] ?? 0,
            "baselineTestAccuracy": test["nearest-class-mean"] ?? 0, "k": Double(best.k),
        ], model: chosen.name, metric: best.metric.rawValue, classification: result.evaluation.report), to: "\(output)/metrics.json")
        print("")
        print(result.evaluation.report.rendered())
        print("test accuracy \(percent(result.evaluation.accuracy)) (\(chosen.name), chosen on validation; "
              + "k-NN \(percent(test["knn"] ?? 0))); report: \(output)/report.md, \(output)/report.html")
    }
}
