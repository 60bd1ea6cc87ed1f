import PerceptCore

/// A dataset cut three ways: fit on `train`, choose hyper-parameters on `validation`,
/// report once on `test`.
public struct DatasetSplits: Sendable {
    public var train: Dataset
    public var validation: Dataset
    public var test: Dataset

    public init(train: Dataset, validation: Dataset, test: Dataset) {
        self.train = train
        self.validation = validation
        self.test = test
    }
}

extension Dataset {
    /// Splits the items into train, validation and test sets, stratified by class.
    ///
    /// Items whose source already assigned them a split (`splits[i]` is `.train`,
    /// `.validation` or `.test`, e.g. from `train/` and `test/` folders or a manifest column)
    /// keep it. Only `.unassigned` items are distributed: within each class they are shuffled
    /// with the seed and cut by the fractions, so among the distributed items every split holds
    /// each class's share to within one item. Each returned set keeps the items' original order.
    ///
    /// - Throws: `.invalidArgument` when a fraction is negative or not finite, or the three do
    ///   not sum to 1 (within 1e-6).
    public func split(train: Double = 0.8, validation: Double = 0.1, test: Double = 0.1,
                      seed: UInt64) throws -> DatasetSplits {
        let assigned = try assigningSplits(train: train, validation: validation, test: test, seed: seed).splits
        func items(_ split: Split) -> [Int] { assigned.indices.filter { assigned[$0] == split } }
        return DatasetSplits(train: subset(items(.train)), validation: subset(items(.validation)),
                             test: subset(items(.test)))
    }

    /// The same items with every `.unassigned` one marked train, validation or test, exactly as
    /// `split` would divide them (so a pack can carry the split for later commands).
    public func assigningSplits(train: Double = 0.8, validation: Double = 0.1, test: Double = 0.1,
                                seed: UInt64) throws -> Dataset {
        let fractions = [train, validation, test]
        guard fractions.allSatisfy({ $0.isFinite && $0 >= 0 }), abs(fractions.reduce(0, +) - 1) <= 1e-6 else {
            throw PerceptError.invalidArgument(
                "split fractions must be ≥ 0 and sum to 1; got train \(train), validation \(validation), "
                + "test \(test) (sum \(fractions.reduce(0, +)))")
        }
        var assigned = splits
        for (label, members) in unassignedItemsByClass() {
            var random = SeededRandom.stream(seed: seed, index: label)
            let shuffled = members.shuffled(using: &random)
            // Cumulative rounding: each cut is within half an item of its exact place, so each
            // split's count for the class is within one item of its share.
            let n = Double(shuffled.count)
            let firstCut = min(shuffled.count, Int((n * train).rounded()))
            let secondCut = min(shuffled.count, max(firstCut, Int((n * (train + validation)).rounded())))
            for (position, item) in shuffled.enumerated() {
                assigned[item] = position < firstCut ? .train : position < secondCut ? .validation : .test
            }
        }
        var copy = self
        copy.splits = assigned
        return copy
    }

    /// Index sets for k-fold cross-validation, stratified by class.
    ///
    /// Each class's items are shuffled with the seed and dealt round-robin across the folds
    /// (the deal continues from class to class, so fold sizes differ by at most one). Fold `f`
    /// validates on the items dealt to it and trains on all others; every item is validated
    /// exactly once. Split marks are ignored: pass the training part of a dataset.
    ///
    /// - Throws: `.invalidArgument` when `folds` < 2 or exceeds the smallest non-empty class
    ///   (a fold would lack that class).
    public func kFoldIndices(folds: Int, seed: UInt64) throws -> [(train: [Int], validation: [Int])] {
        let byClass = itemsByClass()
        let smallest = byClass.map(\.members.count).min() ?? 0
        guard folds >= 2 else {
            throw PerceptError.invalidArgument("k-fold cross-validation needs at least 2 folds, got \(folds)")
        }
        guard folds <= smallest else {
            throw PerceptError.invalidArgument(
                "\(folds) folds need at least \(folds) items in every class; the smallest class has \(smallest)")
        }
        var foldOf = [Int](repeating: 0, count: count)
        var dealt = 0
        for (label, members) in byClass {
            var random = SeededRandom.stream(seed: seed, index: label)
            for item in members.shuffled(using: &random) {
                foldOf[item] = dealt % folds
                dealt += 1
            }
        }
        return (0..<folds).map { fold in
            (train: foldOf.indices.filter { foldOf[$0] != fold }, validation: foldOf.indices.filter { foldOf[$0] == fold })
        }
    }

    /// A smaller dataset for quick runs: at most `cap` items per class, then at most `limit`
    /// items in all (`nil`: no bound; negative bounds count as 0).
    ///
    /// The total limit is shared out in proportion to the classes' sizes after capping
    /// (largest remainders get the leftover items, ties to the lower class index), so the
    /// subset is stratified. Which items survive is chosen by a seeded shuffle per class; the
    /// original order is kept.
    public func limited(perClass cap: Int?, total limit: Int?, seed: UInt64) -> Dataset {
        if cap == nil && limit == nil { return self }
        let byClass = itemsByClass()
        var quotas = byClass.map { min($0.members.count, max(0, cap ?? Int.max)) }
        let available = quotas.reduce(0, +)
        if let limit, limit < available {
            let limit = max(0, limit)
            // Largest remainders, in integers so equal remainders compare equal.
            var shares = quotas.map { $0 * limit / available }
            let remainders = quotas.map { $0 * limit % available }
            let leftover = limit - shares.reduce(0, +)
            let byRemainder = shares.indices.sorted {
                remainders[$0] != remainders[$1] ? remainders[$0] > remainders[$1] : $0 < $1
            }
            for position in byRemainder.prefix(leftover) { shares[position] += 1 }
            quotas = shares
        }
        var kept: [Int] = []
        for ((label, members), quota) in zip(byClass, quotas) {
            var random = SeededRandom.stream(seed: seed, index: label)
            kept += members.shuffled(using: &random).prefix(quota)
        }
        return subset(kept.sorted())
    }

    /// The items of each non-empty class, in order, as (class index, item indices).
    private func itemsByClass() -> [(label: Int, members: [Int])] {
        groupByClass(labels.indices)
    }

    private func unassignedItemsByClass() -> [(label: Int, members: [Int])] {
        groupByClass(splits.indices.filter { splits[$0] == .unassigned })
    }

    private func groupByClass(_ items: some Sequence<Int>) -> [(label: Int, members: [Int])] {
        var members = [[Int]](repeating: [], count: classCount)
        for item in items { members[Int(labels[item])].append(item) }
        return members.enumerated().filter { !$0.element.isEmpty }.map { (label: $0.offset, members: $0.element) }
    }
}
