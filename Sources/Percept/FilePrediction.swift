import Foundation
import PerceptCore
import PerceptData
import PerceptModels
import PerceptDistributed

/// The model's answer for one image file: its top labels with probabilities, or why the file
/// could not be read.
public struct FilePrediction: Sendable, Codable, Equatable {
    public struct Guess: Sendable, Codable, Equatable {
        public var label: String
        public var probability: Double
    }

    public var path: String
    /// Best first; empty when the file failed.
    public var top: [Guess]
    /// Why the file could not be classified (unreadable, not an image, …); nil on success.
    public var error: String?

    /// The best label, or nil when the file failed.
    public var label: String? { top.first?.label }
}

extension SavedModel {
    /// Classifies image files of any size and format the decoders read, resized as at training,
    /// decoded by the same parallel importer as `dataset import` (`ImageImporter.decode`).
    /// An unreadable file gets an `error` and the others go on, unless `strict`.
    ///
    /// - Parameters:
    ///   - paths: image files, in the order the answers come back.
    ///   - top: how many labels per image (capped at the number of classes).
    ///   - strict: throw at the first unreadable file instead.
    ///   - communicator: the ranks of a job (`percept predict --distributed`): every rank decodes the
    ///     files, the ranks check they decoded the same images, and a k-NN model's search is split
    ///     across them. Every rank gets the answers.
    public func predict(files paths: [String], top: Int = 5, strict: Bool = false,
                        threads: Int? = nil, communicator: Communicator = SingleProcess()) throws -> [FilePrediction] {
        guard top >= 1 else { throw PerceptError.invalidArgument("--top needs at least 1, got \(top)") }
        let decoded = try ImageImporter.decode(files: paths, size: inputSize, resizeMode: resizeMode,
                                               classNames: classNames, strict: strict, threads: threads)
        return try answers(for: decoded, names: paths, top: top, communicator: communicator)
    }

    /// Classifies images held in memory (a server's uploads) as `predict(files:)` classifies files:
    /// each answer's `path` is the image's `path` (its name), and nothing touches the disk. The same
    /// as `predictions(for: decode(inMemory:), …)`.
    public func predict(inMemory images: [ArchiveEntry], top: Int = 5, threads: Int? = nil) throws -> [FilePrediction] {
        try predictions(for: try decode(inMemory: images, threads: threads), names: images.map(\.path), top: top)
    }

    /// The first half of `predict(inMemory:)`: the images decoded and fitted to the model's input.
    /// It reads nothing of the model's state, so it may run on several threads beside `predictions`.
    public func decode(inMemory images: [ArchiveEntry], threads: Int? = nil) throws -> DecodedFiles {
        try ImageImporter.decode(inMemory: images, size: inputSize, resizeMode: resizeMode, classNames: classNames,
                                 threads: threads)
    }

    /// The second half: the model's answers for decoded images, answer k named `names[k]`. A model
    /// may keep working buffers between calls: call this from one thread at a time.
    public func predictions(for decoded: DecodedFiles, names: [String], top: Int = 5) throws -> [FilePrediction] {
        guard top >= 1 else { throw PerceptError.invalidArgument("--top needs at least 1, got \(top)") }
        return try answers(for: decoded, names: names, top: top, communicator: SingleProcess())
    }

    private func answers(for decoded: DecodedFiles, names: [String], top: Int,
                         communicator: Communicator) throws -> [FilePrediction] {
        var answers = names.map { FilePrediction(path: $0, top: [], error: nil) }
        for (index, reason) in decoded.failures { answers[index].error = reason }
        if communicator.size > 1 {
            // Every rank takes part, even one that could read nothing, or the others would wait for it.
            let unreadable = decoded.failures.keys.sorted().map(String.init).joined(separator: ",")
            try communicator.requireAgreement(on: (decoded.dataset?.contentDigest ?? []) + Array(unreadable.utf8),
                                              what: "decoded images of the \(names.count) files")
        }
        guard let dataset = decoded.dataset else { return answers }
        let (rankings, probabilities) = try model.classRankingWithProbabilities(dataset, k: min(top, classNames.count),
                                                                                communicator: communicator)
        let c = classNames.count
        for (row, index) in decoded.readable.enumerated() {
            answers[index].top = rankings[row].map {
                FilePrediction.Guess(label: classNames[$0], probability: Double(probabilities.scalars[row * c + $0]))
            }
        }
        return answers
    }
}
