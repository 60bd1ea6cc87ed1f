import Foundation

/// Names around uploads: what a client calls its file is shown, never used as a path; the file on
/// disk gets a name the server makes, keeping only a plain extension (the archive's kind).
enum UploadNames {
    /// The last component of `clientName` (either slash), without control characters, at most
    /// 200 characters; `upload` when nothing usable is left (`..`, empty).
    static func displayName(_ clientName: String) -> String {
        let last = clientName.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        // Control characters as `CharacterSet.controlCharacters` has them (categories Cc and Cf), asked of
        // each scalar: Foundation's sets, bridged on Linux, cost more than the rest of a predict request's parsing.
        let printable = trimmingSpaces(String(String.UnicodeScalarView(last.unicodeScalars.filter {
            $0.properties.generalCategory != .control && $0.properties.generalCategory != .format
        })))
        if printable.isEmpty || printable.allSatisfy({ $0 == "." }) { return "upload" }
        return String(printable.prefix(200))
    }

    /// `text` without the whitespace around it, as `trimmingCharacters(in: .whitespaces)` (category Zs and
    /// tab), asked of each scalar rather than through Foundation's bridged set, which is slow on Linux.
    static func trimmingSpaces<Text: StringProtocol>(_ text: Text) -> String {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool { scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }

    /// A fresh random name with the display name's extension when it is a plain one
    /// (`.zip`, `.tar.gz`, `.jpg`): letters and digits only, so it can never leave the folder.
    static func serverFileName(for displayName: String) -> String {
        let lowered = displayName.lowercased()
        var suffix = ""
        for double in [".tar.gz", ".tar.bz2", ".tar.xz"] where lowered.hasSuffix(double) { suffix = double }
        if suffix.isEmpty, let dot = lowered.lastIndex(of: "."), dot != lowered.startIndex {
            let candidate = lowered[lowered.index(after: dot)...]
            if (1...8).contains(candidate.count), candidate.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) {
                suffix = "." + candidate
            }
        }
        return "upload-" + UUID().uuidString.lowercased() + suffix
    }

    /// The parameters of a `Content-Disposition` header (`form-data; name="file"; filename="a;b.zip"`),
    /// names lowercased; quoted values may hold `;` and backslash-escaped quotes.
    static func dispositionParameters(_ header: String) -> [String: String] {
        var parameters: [String: String] = [:]
        var characters = Substring(header)
        // Skip the disposition type (`form-data`).
        guard let firstSemicolon = characters.firstIndex(of: ";") else { return [:] }
        characters = characters[characters.index(after: firstSemicolon)...]
        while !characters.isEmpty {
            characters = characters.drop(while: { $0 == " " || $0 == "\t" || $0 == ";" })
            let name = characters.prefix(while: { $0 != "=" && $0 != ";" })
            characters = characters.dropFirst(name.count)
            guard characters.first == "=" else { continue }
            characters = characters.dropFirst()
            var value = ""
            if characters.first == "\"" {
                characters = characters.dropFirst()
                var escaped = false
                while let character = characters.first {
                    characters = characters.dropFirst()
                    if escaped { value.append(character); escaped = false }
                    else if character == "\\" { escaped = true }
                    else if character == "\"" { break }
                    else { value.append(character) }
                }
            } else {
                let token = characters.prefix(while: { $0 != ";" })
                characters = characters.dropFirst(token.count)
                value = trimmingSpaces(token)
            }
            let key = trimmingSpaces(name).lowercased()
            if !key.isEmpty, parameters[key] == nil { parameters[key] = value }
        }
        return parameters
    }
}
