/// Which views of each image a network's predictions are averaged over: the one representation of
/// test-time augmentation, from the CLI's `--tta` (its raw values) through `TrainingOptions` and the
/// last epoch's validation to the model file and prediction.
public enum TestTimeAugmentation: String, Codable, Sendable, CaseIterable {
    case none
    /// The image and its mirror image.
    case flip
    /// airbench's level 2: ½ of the flip average above plus ½ of the same average over the image
    /// shifted by one pixel down-right and up-left (edges reflected): six forward passes.
    case flipAndTranslate = "flip-translate"

    /// The transforms and the weight of each one's probabilities.
    public var views: [(transform: ImageTransform, weight: Float)] {
        switch self {
        case .none: [(.identity, 1)]
        case .flip: [(.identity, 0.5), (ImageTransform(flip: true), 0.5)]
        case .flipAndTranslate:
            [(.identity, 0.25), (ImageTransform(flip: true), 0.25),
             (ImageTransform(dy: -1, dx: -1), 0.125), (ImageTransform(dy: -1, dx: -1, flip: true), 0.125),
             (ImageTransform(dy: 1, dx: 1), 0.125), (ImageTransform(dy: 1, dx: 1, flip: true), 0.125)]
        }
    }
}
