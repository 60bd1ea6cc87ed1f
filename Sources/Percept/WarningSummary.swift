import PerceptData

extension Array where Element == DatasetInspection.Warning {
    /// The messages, at most `perKind` of each kind, then one line per kind saying how many more:
    /// ten labels with too few images are one problem, not ten lines.
    public func summarized(perKind: Int = 3) -> [String] {
        var seen: [String: Int] = [:]
        var lines: [String] = []
        for warning in self {
            seen[warning.kind, default: 0] += 1
            if seen[warning.kind, default: 0] <= perKind { lines.append(warning.message) }
        }
        for (kind, count) in seen.sorted(by: { $0.key < $1.key }) where count > perKind {
            lines.append("… and \(count - perKind) more \(kind) warnings (`percept dataset inspect` lists them all)")
        }
        return lines
    }
}
