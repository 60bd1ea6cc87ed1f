import Foundation

// The documents the pages use beyond the minimal API: a dataset's split plan and image
// statistics, a run's training curve, a model's per-image test predictions. Plain values, so the
// routes can be tested against a stand-in service.

/// How a dataset's images without a source-assigned split are divided: whole percentages that sum
/// to 100, stratified by label and shuffled with `seed`. Images whose source assigned a split
/// (split folders, an AutoML CSV column) keep it.
public struct SplitPlan: Sendable, Codable, Equatable {
    public var train: Int
    public var validation: Int
    public var test: Int
    public var seed: UInt64

    public init(train: Int, validation: Int, test: Int, seed: UInt64) {
        self.train = train
        self.validation = validation
        self.test = test
        self.seed = seed
    }

    /// AutoML's (and every Percept command's) 80/10/10 with seed 0.
    public static let standard = SplitPlan(train: 80, validation: 10, test: 10, seed: 0)

    /// The plan when it is usable; a `badRequest` naming what is wrong otherwise. Every split
    /// gets at least 1%, so training has images, validation can pick a model and test can judge it.
    public func checked() throws -> SplitPlan {
        for (name, value) in [("train", train), ("validation", validation), ("test", test)] where !(1...98).contains(value) {
            throw ServiceError.badRequest("the \(name) share must be a whole percentage from 1 to 98, got \(value)")
        }
        guard train + validation + test == 100 else {
            throw ServiceError.badRequest("the split percentages must add up to 100, got \(train) + \(validation) + \(test) = "
                + "\(train + validation + test)")
        }
        return self
    }

    /// "80/10/10, seed 0".
    public var summary: String { "\(train)/\(validation)/\(test), seed \(seed)" }
}

/// A name and how many images have it (a size range, a colour mode).
public struct NamedCount: Sendable, Codable, Equatable {
    public var name: String
    public var count: Int
    public init(name: String, count: Int) { self.name = name; self.count = count }
}

/// The original images of a dataset as the import met them, before they were fitted for storage.
public struct ImageStatistics: Sendable, Codable, Equatable {
    /// Images by their longer side ("64–127 px"), smallest range first.
    public var sizeRanges: [NamedCount]
    /// Images by colour mode (`grey`, `grey+alpha`, `RGB`, `RGBA`, `CMYK`), most common first.
    public var colourModes: [NamedCount]
    /// The most common exact sizes ("640×480"), most common first, at most five.
    public var commonSizes: [NamedCount]
    /// Images whose source assigned their split (split folders, a CSV column); the plan divides the rest.
    public var sourceAssignedImages: Int

    public init(sizeRanges: [NamedCount], colourModes: [NamedCount], commonSizes: [NamedCount], sourceAssignedImages: Int) {
        self.sizeRanges = sizeRanges
        self.colourModes = colourModes
        self.commonSizes = commonSizes
        self.sourceAssignedImages = sourceAssignedImages
    }
}

/// A few of a label's images, by their index in the dataset (served by `GET /api/datasets/{id}/images/{index}`).
public struct ThumbnailGroup: Sendable, Codable, Equatable {
    public var label: String
    public var indices: [Int]
    public init(label: String, indices: [Int]) { self.label = label; self.indices = indices }
}

/// One finished epoch of a run's training curve.
public struct EpochPoint: Sendable, Codable, Equatable {
    public var epoch: Int
    public var loss: Double?
    /// Training accuracy over the epoch's last step, 0…1.
    public var accuracy: Double?
    public var validationAccuracy: Double?
    public init(epoch: Int, loss: Double?, accuracy: Double?, validationAccuracy: Double?) {
        self.epoch = epoch
        self.loss = loss
        self.accuracy = accuracy
        self.validationAccuracy = validationAccuracy
    }
}

/// A model's answers on each test image: what the model page's confusion-cell images, threshold
/// slider and precision–recall curves are drawn from.
public struct TestPredictions: Sendable, Codable, Equatable {
    public struct Item: Sendable, Codable, Equatable {
        /// The image's index in its dataset (for `GET /api/datasets/{id}/images/{index}`).
        public var index: Int
        /// Indices into `classNames`.
        public var truth: Int
        public var predicted: Int
        /// The probability of every class, in `classNames` order (rounded to 4 decimals).
        public var probabilities: [Double]
        public init(index: Int, truth: Int, predicted: Int, probabilities: [Double]) {
            self.index = index
            self.truth = truth
            self.predicted = predicted
            self.probabilities = probabilities
        }
        /// The probability of the predicted class: the prediction's confidence.
        public var confidence: Double { predicted < probabilities.count ? probabilities[predicted] : 0 }
    }
    public var datasetId: Int64
    public var classNames: [String]
    public var items: [Item]
    public init(datasetId: Int64, classNames: [String], items: [Item]) {
        self.datasetId = datasetId
        self.classNames = classNames
        self.items = items
    }
}
