import ArgumentParser
import Foundation
import Percept
import PerceptCore
import PerceptData
import PerceptModels
import PerceptReports

/// `percept knn …`: the lecture's nearest-neighbour pictures.
struct KNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "knn",
        abstract: "Nearest-neighbour pictures: retrievals from a dataset, decision regions of a 2-D toy.",
        subcommands: [KNNNeighbors.self, KNNRegions.self])
}

/// `percept knn neighbors`: validation images and their nearest training images.
struct KNNNeighbors: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighbors",
        abstract: "Draw validation images with their k nearest training images, framed green (same label) or red.",
        discussion: """
            Queries come from the validation split (or, if none is marked, the test split); neighbours come
            from the training split. Data without split marks is divided with --validation and --seed.

            Examples:
              percept knn neighbors cifar10.pack -o retrievals.png
              percept knn neighbors ~/photos --size 32x32 --queries 5 --k 8 --metric l2 -o nn.png
              percept knn neighbors data.pack --indices 0,17,42 --metric cosine -o picked.png
            """)

    @Argument(help: "A folder, CSV manifest, CIFAR binary folder, .pack or archive of these.")
    var path: String

    @Option(help: "How many query images (chosen at random with --seed).")
    var queries = 8

    @Option(help: "Exactly these query images: positions in the validation split, comma-separated.")
    var indices: String?

    @Option(help: "Neighbours shown per query.")
    var k = 10

    @Option(help: "Distance: l1, l2 or cosine.")
    var metric = "l1"

    @Option(help: "Fraction held out for validation when the data has no split marks.")
    var validation = 0.1

    @Option(help: "Seed for the split and the query choice.")
    var seed: UInt64 = 1

    @Option(help: "Each pixel becomes scale × scale pixels in the picture.")
    var scale = 2

    @OptionGroup var loading: LoadingOptions

    @Option(name: [.short, .customLong("output")], help: "The PNG to write.")
    var output = "retrievals.png"

    func validate() throws {
        guard queries >= 1 else { throw ValidationError("--queries must be at least 1 (got \(queries))") }
        guard k >= 1 else { throw ValidationError("--k must be at least 1 (got \(k))") }
        guard validation > 0, validation < 1 else { throw ValidationError("--validation must lie strictly between 0 and 1") }
        guard (1...8).contains(scale) else { throw ValidationError("--scale must be 1…8") }
        do { _ = try DistanceMetric(parsing: metric) } catch let error as PerceptError { throw ValidationError(error.reason) }
        _ = try pickedIndices()
    }

    func pickedIndices() throws -> [Int]? {
        guard let indices else { return nil }
        let values = indices.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? -1) >= 0 }) else {
            throw ValidationError("--indices takes positions ≥ 0 separated by commas, e.g. 0,5,9 (got \(indices))")
        }
        return values.compactMap { $0 }
    }

    /// Training and query sets: marked splits if the data has them, else a seeded hold-out.
    static func trainAndQueries(_ dataset: Dataset, validation: Double, seed: UInt64) throws -> (Dataset, Dataset, String) {
        let marks = Set(dataset.splits)
        if marks.contains(.validation) || marks.contains(.test) {
            let querySplit: Split = marks.contains(.validation) ? .validation : .test
            let train = dataset.subset(dataset.splits.indices.filter { dataset.splits[$0] == .train || dataset.splits[$0] == .unassigned })
            return (train, dataset.items(in: querySplit), querySplit.description)
        }
        let splits = try dataset.split(train: 1 - validation, validation: validation, test: 0, seed: seed)
        return (splits.train, splits.validation, "validation")
    }

    func run() throws {
        let loaded = try loading.load(path, defaultSize: KNearestNeighborsFamily.defaultInputSize)
        reportProblems(loaded.problems, notes: loaded.notes)
        let (train, pool, poolName) = try Self.trainAndQueries(loaded.dataset, validation: validation, seed: seed)
        guard !train.isEmpty, !pool.isEmpty else {
            throw PerceptError.invalidData("need both training and \(poolName) images; got \(train.count) and \(pool.count)", path: path)
        }
        let chosen: [Int]
        if let picked = try pickedIndices() {
            if let bad = picked.first(where: { $0 >= pool.count }) {
                throw PerceptError.invalidArgument("--indices \(bad) is outside the \(pool.count) \(poolName) images (0…\(pool.count - 1))")
            }
            chosen = picked
        } else {
            var random = SeededRandom(seed: seed)
            chosen = Array(Array(0..<pool.count).shuffled(using: &random).prefix(queries))
        }
        let queryImages = pool.subset(chosen)
        var model = KNearestNeighbors(k: min(k, train.count), metric: try DistanceMetric(parsing: metric), threads: loading.threads)
        try model.fit(train)
        let found = try model.neighbors(of: queryImages)
        let predicted = model.ranking(from: found, count: 1).map { $0.first ?? 0 }
        let names = train.classNames
        let picture = RetrievalGrid(scale: scale).render(chosen.indices.map { row in
            RetrievalGrid.Row(
                query: .init(image: queryImages.image(at: row), label: names[Int(queryImages.labels[row])]),
                neighbors: found.neighbors(of: row).map { .init(image: train.image(at: Int($0)), label: names[Int(train.labels[Int($0)])]) })
        })
        try AtomicFile.write(Data(try picture.pngData()), to: output)
        var right = 0
        for (row, position) in chosen.enumerated() {
            let truth = Int(queryImages.labels[row]), vote = predicted[row]
            right += truth == vote ? 1 : 0
            let labels = found.neighbors(of: row).map { names[Int(train.labels[Int($0)])] }
            print("\(poolName) #\(position) \(names[truth]): k-NN says \(names[vote])\(truth == vote ? "" : " (wrong)"); "
                  + "neighbours \(labels.joined(separator: " "))")
        }
        print("\(right) of \(chosen.count) right (k = \(model.k), \(model.metric), \(train.count) training images); wrote \(output)")
    }
}
