import Foundation

/// Writes files so that a crash, a full disk or Ctrl-C never leaves half a file behind:
/// the bytes go to a temporary file beside the target, are flushed, then renamed over it
/// (rename is atomic within one file system).
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { handle in try handle.write(contentsOf: data) }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    /// Streams the file through `body`, which receives a handle to the temporary file.
    public static func write(to path: String, _ body: (FileHandle) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = "\(directory)/.\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)"
        guard FileManager.default.createFile(atPath: temporary, contents: nil) else {
            throw PerceptError.io(path, "cannot create a file in \(directory) (does the folder exist, is it writable?)")
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            do {
                try body(handle)
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            if rename(temporary, path) != 0 {
                throw PerceptError.io(path, "cannot replace the file: \(String(cString: strerror(errno)))")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            if let error = error as? PerceptError { throw error }
            throw PerceptError.io(path, "write failed: \(error.localizedDescription)")
        }
    }
}
