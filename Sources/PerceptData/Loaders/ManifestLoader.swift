import CSV
import Foundation
import PerceptCore

/// Loads a CSV manifest as AutoML Vision imports it:
///
///     [TRAIN|VALIDATION|TEST|UNASSIGNED,]path,label
///
/// Paths are relative to the CSV's folder (or absolute); fields may be quoted; a UTF-8 byte
/// order mark and a header row (`path,label` …) are recognised. Cloud paths (`gs://…`) are
/// reported, since Percept reads local files only. Each bad row names `manifest.csv row N`.
enum ManifestLoader {
    static let splitWords: [String: Split] = [
        "train": .train, "training": .train, "validation": .validation, "val": .validation, "valid": .validation,
        "test": .test, "unassigned": .unassigned,
    ]
    static let headerWords: Set<String> = ["path", "image", "file", "filename", "image_path", "label", "class",
                                           "split", "set", "category"]

    static func load(manifest: FileTree.File, in tree: FileTree, options: ImportOptions) throws -> LoadResult {
        let manifestPath = tree.displayPath(manifest)
        let rows = try parse(try tree.bytes(of: manifest), path: manifestPath)
        var problems: [LoadProblem] = []
        var entries: [(file: FileTree.File, label: String, split: Split)] = []
        // Within an archive, paths are looked up among its entries, relative to the CSV's folder.
        let folder = Array(manifest.components.dropLast())
        let archiveFiles = tree.isOnDisk ? [:] : Dictionary(tree.files.map { ($0.relativePath, $0) },
                                                             uniquingKeysWith: { first, _ in first })
        let baseDirectory = tree.isOnDisk ? (manifestPath as NSString).deletingLastPathComponent : ""

        for (number, row) in rows {
            let place = "\(manifestPath) row \(number)"
            var fields = row.map { $0.trimmingCharacters(in: .whitespaces) }
            while fields.last == "" && fields.count > 2 { fields.removeLast() }
            var split = Split.unassigned
            if let first = fields.first, let word = splitWords[first.lowercased()], fields.count >= 2 {
                split = word
                fields.removeFirst()
            }
            guard let rawPath = fields.first, !rawPath.isEmpty else {
                problems.append(LoadProblem(path: place, reason: "no image path"))
                continue
            }
            guard fields.count >= 2, !fields[1].isEmpty else {
                problems.append(LoadProblem(path: place, reason: "no label for \(rawPath) (unlabelled rows cannot be trained on)"))
                continue
            }
            if rawPath.contains("://") {
                problems.append(LoadProblem(path: place,
                    reason: "\(rawPath) is a URL; Percept reads local files — download them and list local paths"))
                continue
            }
            if tree.isOnDisk {
                let path = rawPath.hasPrefix("/") ? rawPath : "\(baseDirectory)/\(rawPath)"
                guard FileManager.default.fileExists(atPath: path) else {
                    problems.append(LoadProblem(path: place, reason: "file not found: \(path)"))
                    continue
                }
                entries.append((FileTree.diskFile(path, components: rawPath.split(separator: "/").map(String.init)),
                                fields[1], split))
            } else {
                let key = normalise(folder + rawPath.split(separator: "/").map(String.init))
                guard let key, let file = archiveFiles[key] else {
                    problems.append(LoadProblem(path: place, reason: "file not found in the archive: \(rawPath)"))
                    continue
                }
                entries.append((file, fields[1], split))
            }
        }
        let classNames = Array(Set(entries.map(\.label))).sorted()
        let index = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, Int32($0)) })
        let items = entries.map { ImportItem(file: $0.file, label: index[$0.label] ?? 0, split: $0.split) }
        return try DatasetLoader.finish(items: items, classNames: classNames, tree: tree, layout: .manifest,
                                        problems: problems, notes: [], options: options)
    }

    /// The CSV's rows with their 1-based row numbers, header removed.
    static func parse(_ bytes: [UInt8], path: String) throws -> [(Int, [String])] {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw PerceptError.corrupt(path, "manifest is not UTF-8 text")
        }
        let reader: CSVReader
        do {
            // The stream reader skips a byte-order mark.
            reader = try CSVReader(stream: InputStream(data: Data(bytes)))
        } catch {
            throw PerceptError.corrupt(path, "cannot read CSV: \(error)")
        }
        var rows: [(Int, [String])] = []
        var number = 0
        while let row = reader.next() {
            number += 1
            if row.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            if rows.isEmpty, number == 1, isHeader(row) { continue }
            rows.append((number, row))
        }
        if let error = reader.error {
            throw PerceptError.corrupt(path, "CSV error after row \(number): \(error)")
        }
        return rows
    }

    static func isHeader(_ row: [String]) -> Bool {
        let words = row.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return words.contains { headerWords.contains($0) } && !words.contains { $0.contains(".") }
    }

    /// Resolves `.` and `..` inside an archive path; nil if it climbs out of the archive.
    static func normalise(_ components: [String]) -> String? {
        var stack: [String] = []
        for component in components where component != "." && !component.isEmpty {
            if component == ".." {
                guard !stack.isEmpty else { return nil }
                stack.removeLast()
            } else {
                stack.append(component)
            }
        }
        return stack.joined(separator: "/")
    }
}
