import Foundation

/// The numbers in a family's progress line, e.g. the CNN's
/// `epoch 3/10 step 4/4  loss 1.234  acc 45.0%  1234 img/s  ETA 12 s  val 40.0%`.
/// Every field is optional: families report what they know, and a line without an epoch count
/// ("setting 2/4") is not a progress line of this kind.
struct ProgressLine: Equatable {
    var epoch: Int
    var epochs: Int
    var step: Int?
    var steps: Int?
    var loss: Double?
    /// 0…1.
    var accuracy: Double?
    var validationAccuracy: Double?
    var imagesPerSecond: Double?
    var secondsRemaining: Double?

    init?(_ line: String) {
        guard let epochMatch = line.firstMatch(of: /epoch (\d+)\s*\/\s*(\d+)/),
              let epoch = Int(epochMatch.1), let epochs = Int(epochMatch.2) else { return nil }
        self.epoch = epoch
        self.epochs = epochs
        if let match = line.firstMatch(of: /step (\d+)\s*\/\s*(\d+)/) {
            step = Int(match.1)
            steps = Int(match.2)
        }
        loss = line.firstMatch(of: /loss ([0-9.eE+-]+|nan|inf)/).flatMap { Double($0.1) }
        accuracy = line.firstMatch(of: /acc ([0-9.]+)%/).flatMap { Double($0.1) }.map { $0 / 100 }
        validationAccuracy = line.firstMatch(of: /val ([0-9.]+)%/).flatMap { Double($0.1) }.map { $0 / 100 }
        imagesPerSecond = line.firstMatch(of: /([0-9.]+) img\/s/).flatMap { Double($0.1) }
        secondsRemaining = line.firstMatch(of: /ETA ([0-9.]+) s/).flatMap { Double($0.1) }
    }

    /// The line that ends an epoch (its last step, or one carrying the validation accuracy) as a curve point.
    var epochEnd: EpochPoint? {
        let lastStep = step != nil && step == steps
        guard lastStep || validationAccuracy != nil else { return nil }
        return EpochPoint(epoch: epoch, loss: loss.flatMap { $0.isFinite ? $0 : nil }, accuracy: accuracy,
                          validationAccuracy: validationAccuracy)
    }

    /// `curve` with `point` added, replacing an earlier point of the same epoch (a resumed run
    /// repeats the epoch it was interrupted in).
    static func adding(_ point: EpochPoint, to curve: [EpochPoint]) -> [EpochPoint] {
        var updated = curve.filter { $0.epoch < point.epoch }
        updated.append(point)
        return updated
    }
}
