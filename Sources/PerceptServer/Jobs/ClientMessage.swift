import Foundation
import PerceptCore

/// Messages sent to clients: what went wrong, never where on the server.
enum ClientMessage {
    /// `message` with the server path `path` (and the folder around it) replaced by `name`.
    static func hidingPath(_ path: String, as name: String, in message: String) -> String {
        message.replacingOccurrences(of: path, with: name)
    }

    /// An error's text with every given server path replaced by what the client calls it.
    static func describing(_ error: any Error, hiding paths: [String: String] = [:]) -> String {
        var text: String
        if let percept = error as? PerceptError { text = percept.description } else { text = "\(error)" }
        // Longest first, so a file inside a hidden folder is replaced whole.
        for (path, name) in paths.sorted(by: { $0.key.count > $1.key.count }) {
            text = hidingPath(path, as: name, in: text)
        }
        return text
    }
}
