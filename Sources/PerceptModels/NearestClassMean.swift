import PerceptCore
import PerceptData
import PerceptModelKit
import PerceptPreprocessing

/// The classic baseline: represent each class by its mean image and assign every image to
/// the class whose mean is nearest in Euclidean (L2) distance.
///
/// Usage: `var model = NearestClassMean(); try model.fit(train); let labels = try model.predict(test)`.
/// Features are pixels scaled to [0, 1]; `scores` are negative L2 distances to the class
/// means (higher is nearer). A class with no training items has no mean and scores −∞.
public struct NearestClassMean: Classifier {
    public private(set) var classNames: [String] = []
    /// C×D class means (rows of classes without training items are zero and unused).
    public private(set) var means = Tensor(zeros: [0, 0])
    /// Which classes had training items.
    public private(set) var hasMean: [Bool] = []
    /// [H, W, C] of the images the model was fitted on.
    public private(set) var imageShape: [Int] = []

    public init() {}

    /// A fitted model from its parts (a loaded model file).
    init(classNames: [String], means: Tensor, hasMean: [Bool], imageShape: [Int]) {
        self.classNames = classNames
        self.means = means
        self.hasMean = hasMean
        self.imageShape = imageShape
    }

    /// Computes the class means of `dataset`.
    public mutating func fit(_ dataset: Dataset) throws {
        guard !dataset.isEmpty else { throw PerceptError.invalidData("cannot fit NearestClassMean on an empty dataset") }
        let features = dataset.pixelFeatures(scaling: .unitInterval)
        let d = features.columns, c = dataset.classCount
        var sums = [Double](repeating: 0, count: c * d)  // Double: thousands of images add up exactly enough
        for (item, label) in dataset.labels.enumerated() {
            let row = Int(label) * d, source = item * d
            for j in 0..<d { sums[row + j] += Double(features.scalars[source + j]) }
        }
        let counts = dataset.classCounts
        var scalars = [Float](repeating: 0, count: c * d)
        for label in 0..<c where counts[label] > 0 {
            for j in 0..<d { scalars[label * d + j] = Float(sums[label * d + j] / Double(counts[label])) }
        }
        classNames = dataset.classNames
        means = Tensor(shape: [c, d], scalars: scalars)
        hasMean = counts.map { $0 > 0 }
        imageShape = [dataset.height, dataset.width, dataset.channels]
    }

    /// N×C negative L2 distances from each image to each class mean.
    public func scores(for dataset: Dataset) throws -> Tensor {
        guard !classNames.isEmpty else { throw PerceptError.invalidArgument("fit NearestClassMean before scoring") }
        guard [dataset.height, dataset.width, dataset.channels] == imageShape else {
            throw PerceptError.invalidData(
                "images are \(dataset.width)x\(dataset.height)x\(dataset.channels) but the model was fitted on "
                + "\(imageShape[1])x\(imageShape[0])x\(imageShape[2])")
        }
        let distances = try FlatIndex(vectors: means, metric: .l2)
            .distances(to: dataset.pixelFeatures(scaling: .unitInterval))
        let c = classNames.count
        var scores = distances
        for row in 0..<distances.rows {
            for label in 0..<c {
                scores.scalars[row * c + label] = hasMean[label] ? -distances.scalars[row * c + label] : -.infinity
            }
        }
        return scores
    }
}
