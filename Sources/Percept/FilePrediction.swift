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
        var answers = paths.map { FilePrediction(path: $0, top: [], error: nil) }
        let decoded = try ImageImporter.decode(files: paths, size: inputSize, resizeMode: resizeMode,
                                               classNames: classNames, strict: strict, threads: threads)
        for (index, reason) in decoded.failures { answers[index].error = reason }
        if communicator.size > 1 {
            // Every rank takes part, even one that could read nothing, or the others would wait for it.
            let unreadable = decoded.failures.keys.sorted().map(String.init).joined(separator: ",")
            try communicator.requireAgreement(on: (decoded.dataset?.contentDigest ?? []) + Array(unreadable.utf8),
                                              what: "decoded images of the \(paths.count) files")
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
