import Foundation
import PerceptCore

/// One option of a model family: `--k 5`, `--metric l1`, `--resume`. The family declares it once;
/// the CLI parses and documents it from this, and a web form can draw a field from it.
public struct ModelParameter: Sendable {
    public enum Kind: Sendable, Equatable {
        /// A whole number no smaller than `minimum`.
        case integer(minimum: Int)
        /// A finite number above zero (or at least zero when `allowsZero`).
        case number(allowsZero: Bool)
        /// One of the listed words.
        case choice([String])
        /// Free text (a file path, a name).
        case text
        /// Present or absent; takes no value.
        case flag
    }

    /// The flag without dashes: "k", "lr", "arch".
    public var name: String
    public var kind: Kind
    /// The value when the option is not given, as the user would type it; nil when the family
    /// chooses one itself (say so in `help`).
    public var defaultValue: String?
    public var help: String

    public init(_ name: String, _ kind: Kind, default defaultValue: String? = nil, help: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
    }

    /// Checks `text` as a value of this option; the error says what the option takes.
    func check(_ text: String) throws {
        let ok: Bool
        switch kind {
        case let .integer(minimum): ok = Int(text).map { $0 >= minimum } ?? false
        case let .number(allowsZero): ok = Double(text).map { $0.isFinite && (allowsZero ? $0 >= 0 : $0 > 0) } ?? false
        case let .choice(words): ok = words.contains(text)
        case .text: ok = !text.isEmpty
        case .flag: ok = text == "true" || text == "false"
        }
        guard ok else { throw PerceptError.invalidArgument("--\(name) takes \(expectation), got '\(text)'") }
    }

    /// What the option takes, for errors and help: "a whole number ≥ 1", "l1, l2 or cosine".
    public var expectation: String {
        switch kind {
        case let .integer(minimum): return "a whole number ≥ \(minimum)"
        case let .number(allowsZero): return allowsZero ? "a number ≥ 0" : "a positive number"
        case let .choice(words): return words.dropLast().joined(separator: ", ") + (words.count > 1 ? " or " : "") + (words.last ?? "")
        case .text: return "a value"
        case .flag: return "no value"
        }
    }
}

/// The options given for one family, checked against its parameters; lookups fall back to
/// the declared defaults.
public struct ModelSettings: Sendable, Equatable {
    /// Given values by option name (flags as "true").
    public private(set) var values: [String: String]
    private let defaults: [String: String]

    /// Checks every value against `parameters`: unknown names and bad values throw, naming the option.
    public init(_ values: [String: String] = [:], parameters: [ModelParameter], family: String) throws {
        var defaults: [String: String] = [:]
        for parameter in parameters { defaults[parameter.name] = parameter.defaultValue }
        for (name, value) in values {
            guard let parameter = parameters.first(where: { $0.name == name }) else {
                let known = parameters.map { "--\($0.name)" }.joined(separator: ", ")
                throw PerceptError.invalidArgument("--\(name) is not an option of \(family)"
                                                   + (known.isEmpty ? " (it takes none)" : " (it takes \(known))"))
            }
            try parameter.check(value)
        }
        self.values = values
        self.defaults = defaults
    }

    /// Reads `--name value` / `--name=value` / `--flag` pairs from command-line words.
    public init(arguments: [String], parameters: [ModelParameter], family: String) throws {
        let (positionals, pairs) = try Self.words(arguments, parameters: parameters)
        if let word = positionals.first {
            throw PerceptError.invalidArgument("unexpected '\(word)': \(family) options are written --name value")
        }
        try self.init(Dictionary(pairs) { $1 }, parameters: parameters, family: family)
    }

    /// Command-line words as positional words (DATA) and `(name, value)` pairs, in order: a flag
    /// parameter takes no value ("true"); any other `--name` takes `=value` or the next word.
    /// Names are not checked here (the settings' initialiser does that, naming the family); an
    /// unknown name with no value gets "".
    public static func words(_ arguments: [String], parameters: [ModelParameter]) throws
        -> (positionals: [String], pairs: [(name: String, value: String)]) {
        var positionals: [String] = [], pairs: [(name: String, value: String)] = []
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            guard word.hasPrefix("--"), word.count > 2 else {
                positionals.append(word)
                continue
            }
            let name = String(word.dropFirst(2))
            if let equals = name.firstIndex(of: "=") {
                pairs.append((String(name[..<equals]), String(name[name.index(after: equals)...])))
                continue
            }
            let parameter = parameters.first { $0.name == name }
            if parameter?.kind == .flag {
                pairs.append((name, "true"))
                continue
            }
            guard index < arguments.count, !arguments[index].hasPrefix("--") else {
                guard let parameter else {  // an unknown option: the settings name it with the known ones
                    pairs.append((name, ""))
                    continue
                }
                throw PerceptError.invalidArgument("--\(name) needs a value: \(parameter.expectation)")
            }
            pairs.append((name, arguments[index]))
            index += 1
        }
        return (positionals, pairs)
    }

    /// Whether the option was given (defaults do not count).
    public func isGiven(_ name: String) -> Bool { values[name] != nil }

    /// The given or default text of `name`; nil when neither exists.
    public func text(_ name: String) -> String? { values[name] ?? defaults[name] }

    public func integer(_ name: String) -> Int? { text(name).flatMap { Int($0) } }
    public func number(_ name: String) -> Double? { text(name).flatMap { Double($0) } }
    public func flag(_ name: String) -> Bool { text(name) == "true" }

    /// Sets a value without checking it (families deriving one option from another).
    public mutating func set(_ name: String, _ value: String?) { values[name] = value }
}
