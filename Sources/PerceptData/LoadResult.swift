import PerceptCore

/// One thing a loader could not use: a file, an archive entry or a record (`batch.bin#17`),
/// and why. Loaders keep going past problems and report them, so one bad image out of
/// 50,000 does not cost the other 49,999; `strict` loading turns the first one into an error.
public struct LoadProblem: Sendable, Codable, Equatable, CustomStringConvertible {
    /// The file, archive entry or record the problem is in.
    public var path: String
    /// What is wrong and, where possible, what was done about it ("… — skipped").
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }

    /// The problem as the error a strict load throws.
    public var error: PerceptError { .corrupt(path, reason) }
}

/// What every loader returns: the dataset built from everything usable, the problems met on
/// the way, and notes (defaults that were assumed, e.g. class names nobody supplied).
public struct LoadResult: Sendable {
    public var dataset: Dataset
    public var problems: [LoadProblem]
    public var notes: [String]
    /// How the source was laid out, when a layout-detecting loader read it.
    public var layout: DatasetLayout?
    /// One record per image file met (for `dataset inspect`), when asked for.
    public var files: [ImageFileRecord] = []

    public init(dataset: Dataset, problems: [LoadProblem] = [], notes: [String] = []) {
        self.dataset = dataset
        self.problems = problems
        self.notes = notes
    }

    /// Throws the first problem, for callers that want all-or-nothing loading.
    public func throwingFirstProblem() throws -> LoadResult {
        if let first = problems.first { throw first.error }
        return self
    }
}
