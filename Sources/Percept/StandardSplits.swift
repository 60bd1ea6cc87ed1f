import PerceptCore
import PerceptData

/// The proportions every command divides unassigned data by, in one place.
public enum StandardSplit {
    /// Train, validation and test shares of items without a split.
    public static let proportions = (train: 0.8, validation: 0.1, test: 0.1)
    /// The share of training images held out for validation when the data has no validation split.
    public static let validationFraction = 0.1
}

extension Dataset {
    /// The train / validation / test division every command agrees on, so `percept evaluate`
    /// finds exactly the test images `percept train` never saw.
    ///
    /// Splits the source assigned (split folders, a manifest column, a pack) are kept; the other
    /// items go 80/10/10, stratified and seeded. If that leaves no validation images (e.g. only
    /// `train/` and `test/` folders), `validationFraction` of the training images become
    /// validation images, stratified and seeded. `notes` says what was made up.
    public func standardSplits(seed: UInt64 = 0, validationFraction: Double = StandardSplit.validationFraction) throws
        -> (splits: DatasetSplits, notes: [String]) {
        let (assigned, notes) = try withStandardSplits(seed: seed, validationFraction: validationFraction)
        return (DatasetSplits(train: assigned.items(in: .train), validation: assigned.items(in: .validation),
                              test: assigned.items(in: .test)), notes)
    }

    /// The standard splits of a dataset a saved model was trained on: the seed and validation
    /// fraction `percept train` recorded in the model (or `seed` when given).
    public func standardSplits(as model: SavedModel, seed: UInt64? = nil) throws -> (splits: DatasetSplits, notes: [String]) {
        try standardSplits(seed: seed ?? model.splitSeed, validationFraction: model.validationFraction)
    }

    /// The same items with every one marked train, validation or test as `standardSplits` divides them.
    public func withStandardSplits(seed: UInt64 = 0, validationFraction: Double = StandardSplit.validationFraction) throws
        -> (dataset: Dataset, notes: [String]) {
        var notes: [String] = []
        let unassigned = splits.filter { $0 == .unassigned }.count
        let shares = StandardSplit.proportions
        var assigned = try assigningSplits(train: shares.train, validation: shares.validation, test: shares.test, seed: seed)
        if unassigned > 0 {
            notes.append(unassigned == count
                ? "no split was given: \(count) images divided 80/10/10 into train/validation/test (stratified, seed \(seed))"
                : "\(unassigned) images without a split divided 80/10/10 (stratified, seed \(seed))")
        }
        if !assigned.splits.contains(.validation) {
            let trainItems = assigned.splits.indices.filter { assigned.splits[$0] == .train }
            var trainOnly = assigned.subset(trainItems)
            trainOnly.splits = Array(repeating: .unassigned, count: trainOnly.count)
            let carved = try trainOnly.assigningSplits(train: 1 - validationFraction, validation: validationFraction,
                                                       test: 0, seed: seed)
            for (position, item) in trainItems.enumerated() { assigned.splits[item] = carved.splits[position] }
            notes.append("no validation split was given: \(carved.splits.filter { $0 == .validation }.count) training "
                + "images held out for validation (stratified, seed \(seed))")
        }
        return (assigned, notes)
    }
}
