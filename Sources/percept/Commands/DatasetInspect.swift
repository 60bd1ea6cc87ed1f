import ArgumentParser
import Foundation
import PerceptData

struct DatasetInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Label statistics, image sizes and colour modes, duplicates, leakage and unreadable files.",
        discussion: """
            Examples:
              percept dataset inspect ~/photos
              percept dataset inspect cifar10.tar.gz --size 32x32 --json
            """)

    @Argument(help: "A folder (one subfolder per label, or train/val/test), a CSV manifest, a CIFAR binary folder, a .pack, or an archive of these.")
    var path: String

    @OptionGroup var loading: LoadingOptions

    @Flag(help: "Print the full inspection as JSON on stdout.")
    var json = false

    func run() throws {
        let inspection = try DatasetInspection.inspect(path, modelInput: try loading.imageSize, threads: loading.threads,
                                                       strict: loading.strict, followLinks: loading.followLinks)
        if json {
            try Terminal.printJSON(inspection)
            return
        }
        print("\(inspection.source): \(inspection.layout), \(inspection.imageCount) images, \(inspection.classes.count) labels, stored as \(inspection.storedSize)")
        print("")
        print("Images per label")
        print(Terminal.barChart(inspection.classes.map { ($0.name, $0.count) }))
        let splitNames = Set(inspection.classes.flatMap { $0.splits.keys })
        if splitNames.count > 1 || !splitNames.contains("unassigned") {
            let order = ["train", "validation", "test", "unassigned"].filter(splitNames.contains)
            print("")
            print("Splits: " + order.map { split in
                "\(split) \(inspection.classes.reduce(0) { $0 + ($1.splits[split] ?? 0) })"
            }.joined(separator: ", "))
        }
        print("")
        print("Image sizes: " + top(inspection.imageSizes))
        print("Colour modes: " + top(inspection.colorModes))
        print("Exact duplicate files: \(inspection.duplicateFiles.count) groups; identical images: \(inspection.duplicateImages.count) groups")
        for group in inspection.duplicateImages.prefix(5) {
            print("  " + group.paths.prefix(3).joined(separator: "  =  ") + (group.splits.count > 1 ? "   [across \(group.splits.joined(separator: "/"))]" : ""))
        }
        if !inspection.problems.isEmpty {
            print("")
            print("Unreadable or skipped (\(inspection.problems.count)):")
            for problem in inspection.problems.prefix(20) { print("  \(problem.path): \(problem.reason)") }
            if inspection.problems.count > 20 { print("  … \(inspection.problems.count - 20) more (--json lists all)") }
        }
        for note in inspection.notes { print("note: \(note)") }
        if !inspection.warnings.isEmpty { print("") }
        for warning in inspection.warnings { Terminal.warning(warning.message) }
    }

    private func top(_ counts: [String: Int], limit: Int = 6) -> String {
        let sorted = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        return sorted.prefix(limit).map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
            + (sorted.count > limit ? ", … (\(sorted.count - limit) more)" : "")
    }
}
