import Foundation

/// Where human-facing output goes: results on stdout, progress and messages on stderr,
/// colour and progress lines only when stderr is a terminal.
enum Terminal {
    static let isInteractive = isatty(STDERR_FILENO) != 0
    nonisolated(unsafe) static var quiet = false
    /// Set on every rank but 0 of a distributed job, so the job says things once (errors still show).
    nonisolated(unsafe) static var otherRank = false

    static func info(_ message: String) {
        guard !quiet, !otherRank else { return }
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    static func warning(_ message: String) {
        guard !otherRank else { return }
        let prefix = isInteractive ? "\u{1B}[33mwarning:\u{1B}[0m" : "warning:"
        FileHandle.standardError.write(Data("\(prefix) \(message)\n".utf8))
    }

    static func error(_ message: String) {
        let prefix = isInteractive ? "\u{1B}[31merror:\u{1B}[0m" : "error:"
        FileHandle.standardError.write(Data("\(prefix) \(message)\n".utf8))
    }

    /// A one-line status that rewrites itself on a terminal and says nothing otherwise.
    static func progress(_ message: String) {
        guard isInteractive, !quiet, !otherRank else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(message)".utf8))
    }

    static func endProgress() {
        guard isInteractive, !quiet else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    /// Horizontal bars scaled to the largest value, labels aligned: `cat   ████████ 5000`.
    static func barChart(_ rows: [(label: String, value: Int)], width: Int = 40) -> String {
        let labelWidth = rows.map(\.label.count).max() ?? 0
        let largest = max(rows.map(\.value).max() ?? 1, 1)
        return rows.map { row in
            let eighths = row.value * width * 8 / largest
            let bar = String(repeating: "█", count: eighths / 8) + (eighths % 8 > 0 ? String(Array("▏▎▍▌▋▊▉")[eighths % 8 - 1]) : "")
            return row.label.padding(toLength: labelWidth, withPad: " ", startingAt: 0) + "  " + bar + " \(row.value)"
        }.joined(separator: "\n")
    }

    /// Writes `value` as pretty, key-sorted JSON on stdout (stable for scripts).
    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        FileHandle.standardOutput.write(try encoder.encode(value))
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
