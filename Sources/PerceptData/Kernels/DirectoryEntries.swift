#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The names in one folder as the file system stores them: raw bytes from `opendir`/`readdir`,
/// because Foundation would silently mangle a name that is not UTF-8 into one that cannot be
/// opened.
enum DirectoryEntries {
    /// The raw name of every entry of `directory` ("." and ".." included), in the order
    /// `readdir` gives them; nil when the folder cannot be opened (`errno` says why).
    static func rawNames(in directory: String) -> [[UInt8]]? {
        guard let handle = opendir(directory) else { return nil }
        defer { closedir(handle) }
        var names: [[UInt8]] = []
        while let entry = readdir(handle) {
            // d_name is a fixed-size C array holding a NUL-terminated name.
            names.append(withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) })
        }
        return names
    }
}
