import ArgumentParser
import PerceptCore
import PerceptData
import PerceptImage

struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Import, inspect and download image datasets.",
        subcommands: [DatasetImport.self, DatasetInspect.self, DatasetDownloadCommand.self, DatasetSynthesize.self])
}

/// How loaded images are fitted and how strictly bad files are treated; shared by every
/// command that reads a dataset.
struct LoadingOptions: ParsableArguments {
    @Option(help: "Model input size WIDTHxHEIGHT every image is fitted to (default: the first image's size when it is no larger than the model family's default input, else that default; see `percept train --help`).")
    var size: String?

    @Option(help: "How to fit other aspect ratios: squash or center-crop (default squash; center-crop for --model transfer).")
    var resize: ResizeMode?

    /// The mode given, else squash.
    var resizeMode: ResizeMode { resize ?? .squash }

    @Flag(help: "Stop at the first unreadable file instead of reporting it and going on.")
    var strict = false

    @Option(help: "Decoding threads (default: every core).")
    var threads: Int?

    @Flag(help: "Follow symbolic links to folders outside the dataset folder (other links are always followed, once).")
    var followLinks = false

    func validate() throws {
        if let size { _ = try parsedSize(size) }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    var imageSize: ImageSize? { get throws { try size.map(parsedSize) } }

    func importOptions(collectRecords: Bool = false, defaultSize: ImageSize? = nil) throws -> ImportOptions {
        var options = ImportOptions(imageSize: try imageSize, resizeMode: resizeMode, strict: strict, threads: threads,
                                    collectRecords: collectRecords, followLinks: followLinks)
        options.largestNaturalSize = defaultSize
        return options
    }

    /// Loads `path` with these options, with a progress line on a terminal. `defaultSize` is
    /// the model family's default input when the user gives no --size.
    func load(_ path: String, defaultSize: ImageSize? = nil) throws -> LoadResult {
        Terminal.progress("decoding \(path) …")
        defer { Terminal.endProgress() }
        return try DatasetLoader.load(path, options: try importOptions(defaultSize: defaultSize))
    }

    private func parsedSize(_ text: String) throws -> ImageSize {
        do { return try ImageSize(parsing: text) } catch let error as PerceptError {
            throw ValidationError(error.reason)
        }
    }
}

extension ResizeMode: ExpressibleByArgument {}

/// Prints a load's problems (each names its file) and notes, briefly unless asked for all.
func reportProblems(_ problems: [LoadProblem], notes: [String], limit: Int = 20) {
    for note in notes { Terminal.info("note: \(note)") }
    for problem in problems.prefix(limit) { Terminal.warning("\(problem.path): \(problem.reason)") }
    if problems.count > limit {
        Terminal.warning("… and \(problems.count - limit) more problems (use --json to list them all)")
    }
    if !problems.isEmpty {
        Terminal.info("\(problems.count) item\(problems.count == 1 ? "" : "s") skipped; --strict makes any of them fatal")
    }
}

