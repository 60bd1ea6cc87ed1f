import Foundation
import PerceptCore

/// Images dropped one by one with a label each, kept until their import is done: the files under
/// server-made names in one folder (`uploads/<id>.files/`) and this listing beside them, so an
/// import the server was stopped in can start again.
struct LabelledFiles: Codable, Sendable {
    struct File: Codable, Sendable {
        var label: String
        /// The client's name, shown in problems (never a path).
        var displayName: String
        /// The name inside the bundle folder (`3.jpg`), made by the server.
        var storedName: String
    }

    var files: [File]

    static let listingName = "labels.json"

    static func read(_ bundle: URL) throws -> LabelledFiles {
        try JSONDecoder().decode(LabelledFiles.self, from: Data(contentsOf: bundle.appendingPathComponent(listingName)))
    }

    /// Writes the listing last (atomically): a bundle with a listing has all its files.
    func write(to bundle: URL) throws {
        try AtomicFile.write(try JSONEncoder().encode(self), to: bundle.appendingPathComponent(Self.listingName).path)
    }

    /// The label when a user may give it: it becomes a class name and a folder name inside the
    /// in-memory view of the files, so no slashes, no leading dot, no control characters.
    static func checkedLabel(_ label: String, for fileName: String) throws -> String {
        let trimmed = label.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw ServiceError.badRequest("'\(fileName)' has no label: give each file a label (or name it label/file.jpg)")
        }
        guard trimmed.count <= 100, !trimmed.hasPrefix("."), !trimmed.contains("/"), !trimmed.contains("\\"),
              !trimmed.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) else {
            throw ServiceError.badRequest("the label '\(trimmed.prefix(100))' of '\(fileName)' cannot be used: a label has at most "
                + "100 characters, no slashes, no control characters, and does not start with a dot")
        }
        return trimmed
    }
}
