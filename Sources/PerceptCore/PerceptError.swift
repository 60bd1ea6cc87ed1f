/// The one error type Percept's library throws.
///
/// Every case names what went wrong and, where there is one, the file (or archive entry,
/// or `file:line`) it went wrong in, so a message can be acted on without a debugger.
public struct PerceptError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        /// The file could not be read or written (missing, permissions, disk full).
        case io
        /// The bytes are not what their format promises (truncated, bad checksum, bad header).
        case corrupt
        /// A real file in a format or variant Percept does not read (GIF, a newer pack version).
        case unsupported
        /// A caller or user supplied a bad value (k ≤ 0, a malformed `--size`).
        case invalidArgument
        /// The data as a whole cannot be used (one class, mismatched shapes, NaN features).
        case invalidData
        /// A network step failed (download).
        case network
    }

    public var kind: Kind
    /// The file, archive entry or `file:line` the problem is in, if any.
    public var path: String?
    /// What is wrong, and where possible what to do about it.
    public var reason: String

    public init(_ kind: Kind, path: String? = nil, _ reason: String) {
        self.kind = kind
        self.path = path
        self.reason = reason
    }

    public var description: String {
        if let path { return "\(path): \(reason)" }
        return reason
    }

    public static func io(_ path: String?, _ reason: String) -> PerceptError { .init(.io, path: path, reason) }
    public static func corrupt(_ path: String?, _ reason: String) -> PerceptError { .init(.corrupt, path: path, reason) }
    public static func unsupported(_ path: String?, _ reason: String) -> PerceptError {
        .init(.unsupported, path: path, reason)
    }
    public static func invalidArgument(_ reason: String) -> PerceptError { .init(.invalidArgument, reason) }
    public static func invalidData(_ reason: String, path: String? = nil) -> PerceptError {
        .init(.invalidData, path: path, reason)
    }
}

extension PerceptError {
    /// Returns a copy that names `path`, unless the error already names a file.
    public func located(at path: String) -> PerceptError {
        var copy = self
        if copy.path == nil { copy.path = path }
        return copy
    }
}
