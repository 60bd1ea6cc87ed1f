import ArgumentParser
import Foundation
import PerceptCore
import PerceptData
import PerceptModels
import PerceptReports

/// The options every `percept tune linear|softmax|mlp` shares.
struct LinearTuningOptions: ParsableArguments {
    @Argument(help: "A folder, CSV manifest, CIFAR binary folder, .pack or archive of these.")
    var path: String

    @Option(help: "Learning rates, comma-separated (with --search random: the range's ends).")
    var lr: String?

    @Option(help: "L2 regularisation strengths, comma-separated (with --search random: the range's ends).")
    var reg: String?

    @Option(help: "What the model sees: pixels or hog-color (HOG + hue histogram).")
    var features = "pixels"

    @Option(help: "mean-image, channel-standardization, feature-standardization or none (default: mean-image for pixels, feature-standardization for hog-color).")
    var preprocessing: String?

    @Option(help: "grid (every combination) or random (log-uniform samples between the smallest and largest values).")
    var search = "grid"

    @Option(help: "Settings to sample with --search random.")
    var trials = 10

    @Option(help: "Hold out this fraction of the non-test images for validation (default: the standard validation split).")
    var validation: Double?

    @Option(help: "Passes over the training images per setting.") var epochs = 10
    @Option(help: "Minibatch size.") var batch = 200
    @Option(help: "SGD momentum.") var momentum: Float = 0.9
    @Option(help: "Learning-rate decay per epoch.") var decay: Float = 0.9
    @Option(help: "Seed for the split, initial weights, batch order and random search.") var seed: UInt64 = 0
    @Option(help: "Tune on at most this many images (a stratified subset).") var limit: Int?
    @Option(name: [.short, .customLong("output")], help: "Folder for the heatmap, curves and templates.") var output = "."
    @Option(help: "Save the best setting's model to this file (.percept).") var save: String?
    @Flag(help: "Print the result as JSON on stdout.") var json = false
    @OptionGroup var loading: LoadingOptions

    func validate() throws {
        _ = try values(lr, name: "--lr", fallback: "1e-3")
        _ = try values(reg, name: "--reg", fallback: "1e-3")
        guard ["grid", "random"].contains(search) else { throw ValidationError("--search takes grid or random (got \(search))") }
        if trials < 1 { throw ValidationError("--trials must be at least 1 (got \(trials))") }
        if let validation, !(validation > 0 && validation < 1) {
            throw ValidationError("--validation must lie strictly between 0 and 1 (got \(validation)), e.g. 0.1")
        }
        do { _ = try ImageFeatures(name: features) } catch { throw ValidationError("--features takes pixels or hog-color (got \(features))") }
        if let preprocessing, Preprocessing(rawValue: preprocessing) == nil {
            throw ValidationError("--preprocessing takes \(Preprocessing.allCases.map(\.rawValue).joined(separator: ", ")) (got \(preprocessing))")
        }
        if epochs < 1 || batch < 1 { throw ValidationError("--epochs and --batch must be at least 1") }
        if let limit, limit < 4 { throw ValidationError("--limit must be at least 4 (got \(limit))") }
    }

    func values(_ text: String?, name: String, fallback: String) throws -> [Float] {
        let text = text ?? fallback
        let values = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? -1) >= 0 && $0!.isFinite }) else {
            throw ValidationError("\(name) takes numbers ≥ 0 separated by commas, e.g. 1e-3,1e-2 (got \(text))")
        }
        return values.compactMap { $0 }
    }
}

struct TuneLinear: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linear",
        abstract: "Tune a linear SVM (hinge loss) over learning rate × regularisation on a validation split.",
        discussion: LinearTuning.discussion("linear"))
    @OptionGroup var options: LinearTuningOptions
    func run() throws { try LinearTuning(options: options, family: .svm, hidden: []).run() }
}

struct TuneSoftmax: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "softmax",
        abstract: "Tune a softmax classifier over learning rate × regularisation on a validation split.",
        discussion: LinearTuning.discussion("softmax"))
    @OptionGroup var options: LinearTuningOptions
    func run() throws { try LinearTuning(options: options, family: .softmax, hidden: []).run() }
}

struct TuneTwoLayerNet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlp",
        abstract: "Tune a two-layer net (affine–ReLU–affine–softmax) over learning rate × regularisation × hidden size.",
        discussion: LinearTuning.discussion("mlp", extra: " --hidden 100,500"))
    @OptionGroup var options: LinearTuningOptions
    @Option(help: "Hidden-layer sizes, comma-separated.") var hidden = "500"

    func validate() throws {
        let sizes = hidden.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("--hidden takes positive whole numbers separated by commas, e.g. 100,500 (got \(hidden))")
        }
    }

    func run() throws {
        try LinearTuning(options: options, family: .twoLayerNet,
                         hidden: hidden.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }).run()
    }
}
