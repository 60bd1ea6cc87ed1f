// The CNN's input normalisation: the per-channel statistics the network was trained with,
// applied to every batch by `BatchAssembly` (training, evaluation and prediction alike).

/// Per-channel normalisation of 0…255 pixels: x = (p/255 − mean[c]) / std[c].
public struct Normalization: Codable, Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    /// The CIFAR-10 training set's channel statistics (a sensible default for natural images).
    public static let cifar10 = Normalization(mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])
}
