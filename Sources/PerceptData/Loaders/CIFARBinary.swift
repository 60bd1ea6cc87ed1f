import Foundation
import PerceptCore

/// The official CIFAR-10 and CIFAR-100 *binary* releases (Krizhevsky, 2009), decoded into a `Dataset`.
///
/// A batch file is a run of fixed-size records, no header:
/// - CIFAR-10: 1 label byte, then 3,072 pixel bytes (`data_batch_1.bin` … `data_batch_5.bin`,
///   `test_batch.bin`; class names one a line in `batches.meta.txt`).
/// - CIFAR-100: 2 label bytes, coarse then fine, then 3,072 pixel bytes (`train.bin`, `test.bin`;
///   names in `coarse_label_names.txt` and `fine_label_names.txt`).
///
/// The pixels are planar — 1,024 red, 1,024 green, 1,024 blue bytes, each plane 32 rows top to
/// bottom — and are transposed here to the H×W×C order every Percept dataset uses.
/// Records are named `data_batch_1.bin#17` (0-based record index) in `Dataset.sources`.
public enum CIFARBinary {
    /// CIFAR-100 labels every image twice: 20 superclasses (coarse) and 100 classes (fine).
    public enum CIFAR100Labels: String, Sendable, Codable, CaseIterable {
        case fine, coarse
    }

    /// Which release a batch comes from, which fixes the record layout.
    public enum Variant: Sendable, Equatable {
        case cifar10
        case cifar100(CIFAR100Labels)

        /// Label bytes in front of each image.
        public var labelByteCount: Int { self == .cifar10 ? 1 : 2 }
        /// Bytes per record: the labels plus a 32×32×3 image.
        public var recordByteCount: Int { labelByteCount + CIFARBinary.imageByteCount }
        /// Where, inside a record, the label this dataset uses sits (CIFAR-100: coarse first, then fine).
        var labelOffset: Int { self == .cifar100(.fine) ? 1 : 0 }
    }

    /// CIFAR images are 32×32 RGB.
    public static let side = 32
    public static let imageByteCount = 32 * 32 * 3

    /// The CIFAR-10 class names in label order, used when `batches.meta.txt` is missing.
    public static let cifar10ClassNames = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]

    /// The batch files of each release, in the order their records become dataset items.
    static let cifar10Batches: [(name: String, split: Split)] =
        (1...5).map { ("data_batch_\($0).bin", Split.train) } + [("test_batch.bin", .test)]
    static let cifar100Batches: [(name: String, split: Split)] = [("train.bin", .train), ("test.bin", .test)]
    /// The folders the official archives extract to; a `directory` one level above them works too.
    static let releaseFolders = ["cifar-10-batches-bin", "cifar-100-binary"]

    /// The bytes of one batch file, with the split its records belong to.
    public struct Batch: Sendable {
        /// The file name, used in sources (`name#record`) and problems.
        public var name: String
        public var split: Split
        public var bytes: Data

        public init(name: String, split: Split, bytes: Data) {
            self.name = name
            self.split = split
            self.bytes = bytes
        }
    }

    // MARK: - Loading a release

    /// Loads the batches found in `directory` (or in its `cifar-10-batches-bin` / `cifar-100-binary`
    /// subfolder), telling CIFAR-10 from CIFAR-100 by the file names.
    ///
    /// - Parameters:
    ///   - labels: for CIFAR-100, whether items get their fine (100) or coarse (20) class.
    ///   - strict: throw the first problem (truncated batch, out-of-range label) instead of
    ///     skipping what is broken and reporting it.
    public static func load(directory: String, labels: CIFAR100Labels = .fine, strict: Bool = false) throws -> LoadResult {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw PerceptError.io(directory, "no such folder")
        }
        let candidates = [directory] + releaseFolders.map { "\(directory)/\($0)" }
        let allBatchNames = (cifar10Batches + cifar100Batches).map(\.name)
        guard let folder = candidates.first(where: { candidate in
            allBatchNames.contains { fileManager.fileExists(atPath: "\(candidate)/\($0)") }
        }) else {
            throw PerceptError.invalidData(
                "no CIFAR binary batches here (CIFAR-10 has data_batch_1.bin … test_batch.bin, CIFAR-100 has train.bin and test.bin)",
                path: directory)
        }
        var result = try assemble(labels: labels, strict: strict, location: folder) { name in
            let path = "\(folder)/\(name)"
            guard fileManager.fileExists(atPath: path) else { return nil }
            do {
                // Mapped, not read: the bytes are visited once while transposing.
                return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
            } catch {
                throw PerceptError.io(path, "cannot read: \(error.localizedDescription)")
            }
        }
        result.problems = result.problems.map { LoadProblem(path: "\(folder)/\($0.path)", reason: $0.reason) }
        return result
    }

    /// Loads a release from the entries of its archive (`cifar-10-binary.tar.gz` holds
    /// `cifar-10-batches-bin/data_batch_1.bin` …); entries are matched by file name.
    public static func load(entries: [ArchiveEntry], labels: CIFAR100Labels = .fine, strict: Bool = false,
                            archiveName: String = "archive") throws -> LoadResult {
        var byName: [String: [UInt8]] = [:]
        for entry in entries {
            let name = entry.path.split(separator: "/").last.map(String.init) ?? entry.path
            byName[name] = entry.data
        }
        return try assemble(labels: labels, strict: strict, location: archiveName) { name in
            byName[name].map { Data($0) }
        }
    }

    /// Finds the batches and names through `read` (nil: no such file) and decodes them.
    private static func assemble(labels: CIFAR100Labels, strict: Bool, location: String,
                                 read: (String) throws -> Data?) throws -> LoadResult {
        var notes: [String] = []
        let isCIFAR10 = try cifar10Batches.contains { try read($0.name) != nil }
        let variant: Variant = isCIFAR10 ? .cifar10 : .cifar100(labels)
        let expected = isCIFAR10 ? cifar10Batches : cifar100Batches
        var batches: [Batch] = []
        for (name, split) in expected {
            if let bytes = try read(name) { batches.append(Batch(name: name, split: split, bytes: bytes)) }
        }
        guard !batches.isEmpty else {
            throw PerceptError.invalidData("no CIFAR binary batches found", path: location)
        }
        if batches.count < expected.count {
            let missing = expected.map(\.name).filter { name in !batches.contains { $0.name == name } }
            notes.append("\(location): found \(batches.count) of the \(expected.count) batches; missing \(missing.joined(separator: ", "))")
        }

        let namesFile = switch variant {
        case .cifar10: "batches.meta.txt"
        case .cifar100(.fine): "fine_label_names.txt"
        case .cifar100(.coarse): "coarse_label_names.txt"
        }
        var classNames: [String]
        if let text = try read(namesFile) {
            classNames = parseClassNames(text)
        } else if variant == .cifar10 {
            classNames = cifar10ClassNames
            notes.append("\(location): no \(namesFile); using the standard CIFAR-10 names (airplane … truck)")
        } else {
            let count = variant == .cifar100(.fine) ? 100 : 20
            classNames = (0..<count).map { "class_\($0)" }
            notes.append("\(location): no \(namesFile); classes are named class_0 … class_\(count - 1)")
        }

        var result = try decode(batches: batches, variant: variant, classNames: classNames)
        result.notes = notes + result.notes
        if strict, let first = result.problems.first {
            throw PerceptError.corrupt("\(location)/\(first.path)", first.reason)
        }
        return result
    }

    /// Class names, one a line; the official files end with blank lines, which are not classes.
    static func parseClassNames(_ text: Data) -> [String] {
        String(decoding: text, as: UTF8.self)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    // MARK: - Decoding bytes

    /// Decodes several batches into one dataset, their records in order.
    ///
    /// Broken parts become problems and are left out: the incomplete record at the end of a
    /// truncated batch, records whose label is not a class.
    public static func decode(batches: [Batch], variant: Variant, classNames: [String]) throws -> LoadResult {
        let recordBytes = variant.recordByteCount
        var problems: [LoadProblem] = []
        var labels: [Int32] = []
        var sources: [String] = []
        var splits: [Split] = []
        // Pass 1 (cheap, one byte a record): which records are kept, in dataset order.
        var keptRecords: [[Int]] = []
        for batch in batches {
            let size = batch.bytes.count
            let recordCount = size / recordBytes
            if size % recordBytes != 0 {
                let fraction = (Double(size) / Double(recordBytes) * 100).rounded(.down) / 100
                problems.append(LoadProblem(path: batch.name, reason:
                    "truncated: \(grouped(size)) bytes is \(String(format: "%.2f", fraction)) records of \(grouped(recordBytes)); the last record is incomplete"))
            } else if size == 0 {
                problems.append(LoadProblem(path: batch.name, reason: "empty: the batch holds no records"))
            }
            var kept: [Int] = []
            kept.reserveCapacity(recordCount)
            let bytes = batch.bytes, first = bytes.startIndex
            do {
                for record in 0..<recordCount {
                    let label = Int(bytes[first + record * recordBytes + variant.labelOffset])
                    guard label < classNames.count else {
                        problems.append(LoadProblem(path: "\(batch.name)#\(record)",
                            reason: "label \(label) is outside the \(classNames.count) classes — record skipped"))
                        continue
                    }
                    kept.append(record)
                    labels.append(Int32(label))
                    sources.append("\(batch.name)#\(record)")
                    splits.append(batch.split)
                }
            }
            keptRecords.append(kept)
        }

        // Pass 2: transpose every kept record's planes into H×W×C, both cores at once.
        let storage = interleavedPixels(batches: batches, keptRecords: keptRecords, count: labels.count, variant: variant)
        let dataset = try Dataset(height: side, width: side, channels: 3, pixels: storage, labels: labels,
                                  classNames: classNames, sources: sources, splits: splits)
        return LoadResult(dataset: dataset, problems: problems)
    }

    /// 3073000 → "3,073,000", independent of the user's locale (messages are compared in tests).
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }
}
