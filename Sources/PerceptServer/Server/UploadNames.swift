import Foundation

/// Names around uploads: what a client calls its file is shown, never used as a path; the file on
/// disk gets a name the server makes, keeping only a plain extension (the archive's kind).
enum UploadNames {
    /// The last component of `clientName` (either slash), without control characters, at most
    /// 200 characters; `upload` when nothing usable is left (`..`, empty).
    static func displayName(_ clientName: String) -> String {
        let last = clientName.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let printable = String(String.UnicodeScalarView(last.unicodeScalars.filter {
            !CharacterSet.controlCharacters.contains($0) })).trimmingCharacters(in: .whitespaces)
        if printable.isEmpty || printable.allSatisfy({ $0 == "." }) { return "upload" }
        return String(printable.prefix(200))
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
                value = token.trimmingCharacters(in: .whitespaces)
            }
            let key = name.trimmingCharacters(in: .whitespaces).lowercased()
            if !key.isEmpty, parameters[key] == nil { parameters[key] = value }
        }
        return parameters
    }
}
