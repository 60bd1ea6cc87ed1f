import Foundation
import PerceptCore
import PerceptData
import PerceptImage
import PerceptModels

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
    /// Classifies image files of any size and format the decoders read, resized as at training.
    /// An unreadable file gets an `error` and the others go on, unless `strict`.
    ///
    /// - Parameters:
    ///   - paths: image files, in the order the answers come back.
    ///   - top: how many labels per image (capped at the number of classes).
    ///   - strict: throw at the first unreadable file instead.
    public func predict(files paths: [String], top: Int = 5, strict: Bool = false,
                        threads: Int? = nil) throws -> [FilePrediction] {
        guard top >= 1 else { throw PerceptError.invalidArgument("--top needs at least 1, got \(top)") }
        var answers = paths.map { FilePrediction(path: $0, top: [], error: nil) }
        let decoded = try decodeInputs(files: paths, strict: strict, threads: threads)
        for (index, reason) in decoded.failures { answers[index].error = reason }
        guard let dataset = decoded.dataset else { return answers }
        let readable = decoded.readable
        let (rankings, probabilities) = try model.classRankingWithProbabilities(dataset, k: min(top, classNames.count))
        let c = classNames.count
        for (row, index) in readable.enumerated() {
            answers[index].top = rankings[row].map {
                FilePrediction.Guess(label: classNames[$0], probability: Double(probabilities.scalars[row * c + $0]))
            }
        }
        return answers
    }

    /// The readable files among `paths`, decoded and resized to the model's input as one dataset
    /// (nil when none could be read), their indices in `paths`, and the reason each other file
    /// failed; with `strict`, the first failure is thrown instead. Shared by `predict(files:)` and
    /// `percept predict --scores`.
    public func decodeInputs(files paths: [String], strict: Bool, threads: Int?) throws
        -> (dataset: Dataset?, readable: [Int], failures: [Int: String]) {
        let size = inputSize, mode = resizeMode
        let decoded: [Result<Image, PerceptError>] = Parallel.map(count: paths.count, threads: threads) { index in
            do {
                let image = try Image(contentsOfFile: paths[index])
                return .success(image.size == size ? image : image.resized(to: size, mode: mode))
            } catch let error as PerceptError {
                return .failure(error)
            } catch {
                return .failure(PerceptError.io(paths[index], "\(error)"))
            }
        }
        var images: [Image] = [], readable: [Int] = [], failures: [Int: String] = [:]
        for (index, result) in decoded.enumerated() {
            switch result {
            case .success(let image):
                images.append(image)
                readable.append(index)
            case .failure(let error):
                if strict { throw error }
                failures[index] = error.reason
            }
        }
        guard !images.isEmpty else { return (nil, [], failures) }
        let dataset = try Dataset(images: images, classNames: classNames, sources: readable.map { paths[$0] })
        return (dataset, readable, failures)
    }
}
