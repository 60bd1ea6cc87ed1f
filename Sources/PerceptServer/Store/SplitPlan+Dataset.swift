import Foundation
import Percept
import PerceptData

extension SplitPlan {
    /// `dataset` with every image marked train, validation or test: marks the source gave are kept,
    /// the unassigned images are divided by this plan's shares (stratified, seeded), and if that
    /// leaves no validation images (tiny labels) some training images are held out as
    /// `percept train` does. The standard plan gives exactly `withStandardSplits(seed: 0)`.
    func apply(to dataset: Dataset) throws -> Dataset {
        let divided = try dataset.assigningSplits(train: Double(train) / 100, validation: Double(validation) / 100,
                                                  test: Double(test) / 100, seed: seed)
        return try divided.withStandardSplits(seed: seed).dataset
    }

    /// Images per split once applied.
    static func counts(_ assigned: Dataset) -> [String: Int] {
        assigned.splits.reduce(into: [String: Int]()) { $0[$1.description, default: 0] += 1 }
    }
}

extension ImageStatistics {
    /// The longer-side ranges the dataset page counts images in.
    static let sizeBounds = [32, 64, 128, 256, 512, 1024]

    /// Statistics of the files an import decoded (records with header facts and no failure).
    init(records: [ImageFileRecord], sourceAssignedImages: Int) {
        self.init(infos: records.compactMap { $0.failure == nil ? $0.info : nil }, sourceAssignedImages: sourceAssignedImages)
    }

    init(infos: [ImageInfo], sourceAssignedImages: Int) {
        var ranges = [Int](repeating: 0, count: Self.sizeBounds.count + 1)
        var modes: [String: Int] = [:]
        var sizes: [String: Int] = [:]
        for info in infos {
            let side = max(info.width, info.height)
            ranges[Self.sizeBounds.firstIndex { side < $0 } ?? Self.sizeBounds.count] += 1
            modes[Self.colourMode(info.colorMode), default: 0] += 1
            sizes["\(info.width)×\(info.height)", default: 0] += 1
        }
        let rangeNames = Self.sizeBounds.indices.map { index in
            index == 0 ? "under \(Self.sizeBounds[0]) px" : "\(Self.sizeBounds[index - 1])–\(Self.sizeBounds[index] - 1) px"
        } + ["\(Self.sizeBounds.last ?? 0) px and more"]
        func byCount(_ counts: [String: Int]) -> [NamedCount] {
            counts.map { NamedCount(name: $0.key, count: $0.value) }
                .sorted { $0.count != $1.count ? $0.count > $1.count : $0.name < $1.name }
        }
        self.init(sizeRanges: zip(rangeNames, ranges).filter { $0.1 > 0 }.map { NamedCount(name: $0.0, count: $0.1) },
                  colourModes: byCount(modes), commonSizes: Array(byCount(sizes).prefix(5)),
                  sourceAssignedImages: sourceAssignedImages)
    }

    /// A decoder's colour mode in the words the page uses: a palette is shown as the RGB(A) it expands to.
    static func colourMode(_ mode: String) -> String {
        switch mode.lowercased() {
        case "gray", "grey", "grayscale": return "grey"
        case "gray+alpha", "grey+alpha", "gray+transparency": return "grey+alpha"
        case "rgb", "ycbcr", "palette": return "RGB"
        case "rgba", "rgb+transparency", "palette+transparency": return "RGBA"
        case "cmyk", "ycck": return "CMYK"
        default: return mode
        }
    }
}
