import PerceptData
import PerceptPreprocessing

extension PreparedData {
    /// The training set prepared (pipeline fitted on it, rows shuffled with the seed) and the
    /// validation set put through the same pipeline: what every SGD model's `fit(dataset)` starts with.
    public static func trainingAndValidation(_ train: Dataset, validation: Dataset?, features: ImageFeatures,
                                             preprocessing: Preprocessing, options: SGDOptions) throws
        -> (train: PreparedData, validation: PreparedData?) {
        let data = try training(train, features: features, preprocessing: preprocessing,
                                seed: options.seed, threads: options.threads)
        let held = try validation.map { try applying(data.pipeline, to: $0, threads: options.threads) }
        return (data, held)
    }

}
