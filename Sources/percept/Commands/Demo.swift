import ArgumentParser
import Foundation
import Percept
import PerceptCore
import PerceptData
import PerceptEvaluation
import PerceptImage
import PerceptModels
import PerceptReports
import PerceptModelKit

/// The whole pipeline on data that needs no download: import → train → evaluate → predict → report.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run import → train → evaluate → predict → report end to end on the built-in dataset (or yours).",
        discussion: """
            Draws Percept's synthetic dataset (ten classes of shapes and textures) as PNG folders, imports
            them, splits 80/10/10, chooses k-NN's k and metric by 5-fold cross-validation, trains the
            nearest-class-mean baseline, a softmax classifier and a small CNN, keeps the best on validation,
            evaluates it once on the test split, predicts a few image files with it and writes a report.

            Examples:
              percept demo
              percept demo --data ~/photos --size 32x32 --output photos-demo
            """)

    @Option(help: "Folder for the dataset, pack, pictures and report.")
    var output = "demo-output"

    @Option(help: "Run on this dataset instead of the built-in one (any form `dataset import` reads).")
    var data: String?

    @Option(name: .customLong("per-class"), help: "Built-in dataset: images per class.")
    var perClass = 300

    @Option(help: "Image size WIDTHxHEIGHT (built-in data is drawn at it; other data is fitted to it).")
    var size = "32x32"

    @Option(help: "Seed for the data, the split and everything random.")
    var seed: UInt64 = 0

    func validate() throws {
        guard perClass >= 10 else { throw ValidationError("--per-class must be at least 10 so every split has images") }
        _ = try ImageSize(parsing: size)
    }

    func run() throws {
        let imageSize = try ImageSize(parsing: size)
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var report = DemoReport()
        let total = DispatchTime.now()

        // 1. Import: real files through the real decoders, then a pack.
        var step = DispatchTime.now()
        let source: String
        if let data {
            source = data
        } else {
            source = "\(output)/data"
            try Self.replaceDemoFolder(source)
            let drawn = try SyntheticShapes(imageSize: imageSize, seed: seed).makeDataset(perClass: perClass)
            try writeImageFolders(drawn, to: source)
            try AtomicFile.write("made by percept demo; deleted and redrawn by the next run\n", to: "\(source)/\(Self.marker)")
            Terminal.info("drew \(drawn.count) images of \(drawn.classCount) classes into \(source)/<class>/*.png")
        }
        let loaded = try DatasetLoader.load(source, options: ImportOptions(imageSize: imageSize))
        reportProblems(loaded.problems, notes: loaded.notes)
        let packPath = "\(output)/dataset.pack"
        try PackFile.write(loaded.dataset, to: packPath)
        let dataset = try PackFile.load(packPath)
        report.add("Import", seconds: step, """
            \(dataset.count) images from `\(source)` (\(loaded.layout?.rawValue ?? "?")), \(dataset.classCount) labels, \
            \(dataset.width)x\(dataset.height); \(loaded.problems.count) files skipped; packed to `dataset.pack`.
            """)
        report.classCounts = zip(dataset.classNames, dataset.classCounts).map { ($0, $1) }

        // 2. Split: stratified 80/10/10 (items a source already assigned keep their split).
        let splits = try dataset.split(train: 0.8, validation: 0.1, test: 0.1, seed: seed)
        guard splits.train.count > 0, splits.validation.count > 0, splits.test.count > 0 else {
            throw PerceptError.invalidData("too few images to split 80/10/10 into non-empty parts", path: source)
        }
        report.add("Split", """
            train \(splits.train.count), validation \(splits.validation.count), test \(splits.test.count) \
            (stratified, seed \(seed)); the test split is used once, at the end.
            """)

        // 3. Train: nearest class mean as the baseline; k-NN with k and metric chosen by cross-validation.
        step = DispatchTime.now()
        var baseline = NearestClassMean()
        try baseline.fit(splits.train)
        let baselineValidation = try accuracy(predicted: baseline.predict(splits.validation), truth: splits.validation.labels)
        // 5-fold cross-validation on the training split, the lecture's way of choosing k and the metric.
        let kValues = [1, 3, 5, 7, 10, 20].filter { $0 <= splits.train.count * 4 / 5 }
        let crossValidation = try CrossValidation(folds: 5, seed: seed)
            .evaluateNearestNeighbors(splits.train, k: kValues, metrics: [.l1, .l2])
        let best = crossValidation.best
        var knn = KNearestNeighbors(k: best.k, metric: best.metric)
        try knn.fit(splits.train)
        let knnValidation = try accuracy(predicted: knn.predict(splits.validation), truth: splits.validation.labels)
        let chart = LineChart(crossValidation: crossValidation)
        try AtomicFile.write(chart.svg(), to: "\(output)/knn-cv.svg")
        try AtomicFile.write(Data(try chart.pngData()), to: "\(output)/knn-cv.png")
        Terminal.info("validation accuracy: nearest class mean \(percent(baselineValidation)); k-NN k=\(best.k) \(best.metric) \(percent(knnValidation))")
        report.tuning = crossValidation.settings.map {
            ("k=\($0.k) \($0.metric)", "\(percent($0.mean)) ± \(percent($0.standardDeviation))")
        }
        report.add("Train", seconds: step, """
            Nearest class mean (baseline): validation accuracy \(percent(baselineValidation)). \
            k-NN on raw pixels, k ∈ {\(kValues.map(String.init).joined(separator: ", "))} × {L1, L2} chosen by 5-fold \
            cross-validation on the training split: best k = \(best.k), \(best.metric) \
            (\(percent(best.mean)) ± \(percent(best.standardDeviation))); validation accuracy \(percent(knnValidation)).
            """)

        // 3b. The parametric side of the lecture: a linear softmax classifier (with its class
        // templates and loss curve) and a small CNN, each measured on the validation split.
        step = DispatchTime.now()
        var softmax = LinearClassifier(loss: .softmax, features: .pixels, preprocessing: .meanImage,
                                       options: SGDOptions(learningRate: 1e-2, regularization: 1e-3, learningRateDecay: 0.9,
                                                           batchSize: 100, epochs: 15, seed: seed))
        let softmaxHistory = try softmax.fit(splits.train, validation: splits.validation)
        let softmaxValidation = try accuracy(predicted: softmax.predict(splits.validation), truth: splits.validation.labels)
        try AtomicFile.write(Data(try TemplateGrid().render(softmax).pngData()), to: "\(output)/softmax-templates.png")
        let lossChart = LineChart(lossHistory: softmaxHistory)
        try AtomicFile.write(lossChart.svg(), to: "\(output)/softmax-loss.svg")
        try AtomicFile.write(Data(try lossChart.pngData()), to: "\(output)/softmax-loss.png")
        var cnnOptions = TrainingOptions()
        cnnOptions.epochs = 6
        cnnOptions.batchSize = 64
        cnnOptions.seed = seed
        let cnnResult = try Trainer(architecture: Architecture.named("tiny") ?? Architecture(name: "tiny", layers: []),
                                    options: cnnOptions).fit(train: splits.train, validation: splits.validation)
        let cnnValidation = try accuracy(predicted: cnnResult.model.predict(splits.validation), truth: splits.validation.labels)
        try FileManager.default.createDirectory(atPath: "\(output)/models", withIntermediateDirectories: true)
        let candidates: [(name: String, model: any ArchivableModel, validation: Double)] = [
            ("nearest-class-mean", baseline, baselineValidation), ("knn", knn, knnValidation),
            ("softmax", softmax, softmaxValidation), ("cnn", cnnResult.model, cnnValidation),
        ]
        for candidate in candidates {
            try ModelFile.write(candidate.model, to: "\(output)/models/\(candidate.name).percept", resizeMode: "squash",
                                metadata: ["dataset": source, "seed": String(seed), "recipe": candidate.name,
                                           "validationAccuracy": String(candidate.validation)])
        }
        let chosen = candidates.max { $0.validation < $1.validation } ?? candidates[1]
        Terminal.info("validation accuracy: softmax \(percent(softmaxValidation)); small CNN \(percent(cnnValidation)); "
                      + "best: \(chosen.name)")
        report.add("Linear and CNN", seconds: step, """
            Softmax classifier on mean-subtracted pixels, 15 epochs of minibatch SGD with momentum: validation accuracy \
            \(percent(softmaxValidation)); its ten class templates are `softmax-templates.png`, its loss curve \
            `softmax-loss.svg`. A small CNN (`tiny`: conv–BN–ReLU blocks, \(cnnOptions.epochs) epochs, flips and shifts): \
            validation accuracy \(percent(cnnValidation)). Every model is saved under `models/`; the best on validation, \
            \(chosen.name), gets the HTML report `report.html`.
            """)

        // 4. Evaluate once on the test split: the model chosen on validation in full, the others'
        // accuracy beside it (reported, not used to choose).
        step = DispatchTime.now()
        let evaluation = try Evaluation(model: chosen.model, on: splits.test)
        // One ranking pass of the chosen model gives its top-3 and the picture below; the others predict once.
        let top3 = min(3, dataset.classCount)
        let chosenRankings = try chosen.model.topK(splits.test, k: top3)
        let top3Accuracy = try topKAccuracy(rankings: chosenRankings, truth: splits.test.labels, k: top3)
        let testAccuracies = try candidates.map {
            ($0.name, $0.name == chosen.name ? evaluation.accuracy
                : try accuracy(predicted: $0.model.predict(splits.test), truth: splits.test.labels))
        }
        let knnTest = testAccuracies.first { $0.0 == "knn" }?.1 ?? 0
        let baselineTest = testAccuracies.first { $0.0 == "nearest-class-mean" }?.1 ?? 0
        report.add("Evaluate", seconds: step, """
            Test accuracy of the model chosen on validation, \(chosen.name): \(percent(evaluation.accuracy)) \
            (top-\(top3) \(percent(top3Accuracy))). The others on the same split: \
            \(testAccuracies.filter { $0.0 != chosen.name }.map { "\($0.0) \(percent($0.1))" }.joined(separator: ", ")); \
            chance \(percent(1 / Double(dataset.classCount))).
            """)
        report.classification = evaluation.report.rendered()
        report.confusion = evaluation.confusion.rendered()
        // A spread of test images (the split keeps class order), framed green when right, red when wrong.
        let predicted = chosenRankings.map { Int32($0[0]) }
        let shown = Array(Swift.stride(from: 0, to: splits.test.count, by: max(1, splits.test.count / 40)).prefix(40))
        let grid = ImageGrid(columns: 10, scale: 2).render(shown.map { index in
            ImageGrid.Cell(image: splits.test.image(at: index),
                           border: predicted[index] == splits.test.labels[index] ? ImageGrid.right : ImageGrid.wrong)
        })
        try AtomicFile.write(Data(try grid.pngData()), to: "\(output)/test-predictions.png")

        // The lecture's retrieval picture: a few test images and their 10 nearest training images.
        let queryIndices = Array(Swift.stride(from: 0, to: splits.test.count, by: max(1, splits.test.count / 8)).prefix(8))
        let queries = splits.test.subset(queryIndices)
        let found = try ByteIndex(dataset: splits.train, metric: best.metric)
            .search(queries, k: min(10, splits.train.count))
        let retrievals = RetrievalGrid(scale: 2).render(queryIndices.indices.map { row in
            RetrievalGrid.Row(
                query: .init(image: queries.image(at: row), label: queries.classNames[Int(queries.labels[row])]),
                neighbors: found.neighbors(of: row).map { index in
                    .init(image: splits.train.image(at: Int(index)),
                          label: splits.train.classNames[Int(splits.train.labels[Int(index)])])
                })
        })
        try AtomicFile.write(Data(try retrievals.pngData()), to: "\(output)/retrievals.png")

        // 5. Predict: image files handed to the saved model, exactly as `percept predict` does.
        step = DispatchTime.now()
        let chosenPath = "\(output)/models/\(chosen.name).percept"
        let bestSaved = try SavedModel.load(chosenPath)
        let picks = Array(Swift.stride(from: 0, to: splits.test.count, by: max(1, splits.test.count / 5)).prefix(5))
        let files = picks.map { splits.test.sources[$0] }
        let answers = try bestSaved.predict(files: files, top: min(3, dataset.classCount))
        var lines: [String] = []
        for (row, answer) in answers.enumerated() {
            let truth = dataset.classNames[Int(splits.test.labels[picks[row]])]
            let guesses = answer.error.map { "unreadable: \($0)" }
                ?? answer.top.map { "\($0.label) \(percent($0.probability))" }.joined(separator: ", ")
            lines.append("- `\(answer.path)` (true: \(truth)): " + guesses)
        }
        report.add("Predict", seconds: step, "With `models/\(chosen.name).percept`:\n" + lines.joined(separator: "\n"))
        for line in lines { print(line.dropFirst(2)) }

        // 6. Report: the best model on validation, as `percept report` writes it, plus the tour in Markdown.
        var html = ModelReport(model: bestSaved, modelPath: chosenPath)
        html.data = (try ModelReport.loadData(packPath, for: bestSaved), packPath)
        try AtomicFile.write(try html.html(), to: "\(output)/report.html")
        let markdown = report.markdown(totalSeconds: Terminal.seconds(since: total))
        try AtomicFile.write(markdown, to: "\(output)/report.md")
        try AtomicFile.write(try DemoReport.json([
            // Keys as before (validation/test figures are now the chosen model's, named in "model"); k-NN's own added.
            "validationAccuracy": chosen.validation, "testAccuracy": evaluation.accuracy, "testTop3Accuracy": top3Accuracy,
            "crossValidationMean": best.mean, "knnTestAccuracy": knnTest, "baselineTestAccuracy": baselineTest, "k": Double(best.k),
        ], model: chosen.name, metric: best.metric.rawValue, classification: evaluation.report), to: "\(output)/metrics.json")
        print("")
        print(evaluation.report.rendered())
        print("test accuracy \(percent(evaluation.accuracy)) (\(chosen.name), chosen on validation; k-NN \(percent(knnTest))); "
              + "report: \(output)/report.md, \(output)/report.html")
    }
}

extension Demo {
    /// Marks a data folder the demo drew, so a later run may delete it and nothing else.
    static let marker = ".percept-demo"

    /// Removes a previous run's drawn data; refuses to touch a folder the demo did not make.
    static func replaceDemoFolder(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        guard FileManager.default.fileExists(atPath: "\(path)/\(marker)") else {
            throw PerceptError.invalidArgument(
                "\(path) exists and was not made by percept demo; choose another --output folder")
        }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw PerceptError.io(path, "cannot remove the previous demo data: \(error.localizedDescription)")
        }
    }
}

func percent(_ value: Double) -> String { String(format: "%.1f%%", value * 100) }
