import ArgumentParser
import Foundation
import PerceptData

struct DatasetImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Decode a dataset once into a pack file that loads in a fraction of a second.",
        discussion: """
            Examples:
              percept dataset import ~/photos -o photos.pack --size 64x64 --resize center-crop
              percept dataset import cifar-10-binary.tar.gz -o cifar10.pack
              percept dataset import train/ -o cifar.pack --split 80,10,10 --seed 1
            """)

    @Argument(help: "A folder, CSV manifest, CIFAR binary folder, .pack or archive of these.")
    var path: String

    @Option(name: [.short, .customLong("output")], help: "The pack file to write (written atomically).")
    var output: String

    @OptionGroup var loading: LoadingOptions

    @Option(help: "Assign unassigned items to train,validation,test by these percentages (stratified), e.g. 80,10,10.")
    var split: String?

    @Flag(help: "With --split: redistribute every item, ignoring the splits its source gave (e.g. carve validation from CIFAR's training batches).")
    var resplit = false

    @Option(help: "Seed for --split and --limit.")
    var seed: UInt64 = 0

    @Option(help: "Keep at most this many images in all (a stratified subset).")
    var limit: Int?

    @Option(name: .customLong("per-class"), help: "Keep at most this many images per label.")
    var perClass: Int?

    @Flag(help: "Print a JSON summary on stdout.")
    var json = false

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    func validate() throws {
        if let split { _ = try Self.splitFractions(split) }
        if resplit && split == nil { throw ValidationError("--resplit needs --split, e.g. --split 80,10,10 --resplit") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let perClass, perClass < 1 { throw ValidationError("--per-class must be at least 1") }
    }

    struct Summary: Codable {
        var output: String
        var images: Int
        var labels: [String]
        var size: String
        var splits: [String: Int]
        var problems: [LoadProblem]
        var seconds: Double
    }

    func run() throws {
        Terminal.quiet = quiet
        let start = DispatchTime.now()
        let result = try loading.load(path)
        var dataset = result.dataset
        if limit != nil || perClass != nil {
            dataset = dataset.limited(perClass: perClass, total: limit, seed: seed)
        }
        if let split {
            if resplit {
                dataset.splits = Array(repeating: .unassigned, count: dataset.count)
            } else if !dataset.splits.contains(.unassigned) {
                Terminal.warning("every item already has a split from its source, so --split changes nothing; add --resplit to redistribute them")
            }
            let fractions = try Self.splitFractions(split)
            dataset = try dataset.assigningSplits(train: fractions[0], validation: fractions[1], test: fractions[2],
                                                  seed: seed)
        }
        try PackFile.write(dataset, to: output)
        let seconds = Terminal.seconds(since: start)
        var splitCounts: [String: Int] = [:]
        for mark in dataset.splits { splitCounts[mark.description, default: 0] += 1 }
        if json {
            try Terminal.printJSON(Summary(output: output, images: dataset.count, labels: dataset.classNames,
                                           size: "\(dataset.width)x\(dataset.height)", splits: splitCounts,
                                           problems: result.problems, seconds: seconds))
            return
        }
        if !quiet {
            reportProblems(result.problems, notes: result.notes)
            let splitText = splitCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print("wrote \(output): \(dataset.count) images of \(dataset.width)x\(dataset.height), \(dataset.classCount) labels (\(splitText)) in \(String(format: "%.2f", seconds)) s")
        }
    }

    /// "80,10,10" → [0.8, 0.1, 0.1]; percentages or fractions, three of them, summing to 100 (or 1).
    static func splitFractions(_ text: String) throws -> [Double] {
        let values = text.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == 3, values.allSatisfy({ ($0 ?? -1) >= 0 }) else {
            throw ValidationError("--split takes three non-negative numbers train,validation,test, e.g. 80,10,10")
        }
        let numbers = values.compactMap { $0 }
        let total = numbers.reduce(0, +)
        guard abs(total - 100) < 1e-6 || abs(total - 1) < 1e-9 else {
            throw ValidationError("--split \(text) sums to \(total); the three parts must sum to 100")
        }
        return numbers.map { $0 / total }
    }
}
