import CArchive
import Foundation
import PerceptCore

/// One regular file read from an archive: its path inside the archive and its bytes.
public struct ArchiveEntry: Sendable {
    public var path: String
    public var data: [UInt8]

    public init(path: String, data: [UInt8]) {
        self.path = path
        self.data = data
    }
}

/// Reads .zip, .tar, .tar.gz/.tgz, .tar.bz2, .tar.xz, .7z … through libarchive, which detects the
/// format and compression from the bytes, not the file name.
///
/// Archives come from strangers, so entry paths are checked before anything is done with them:
/// absolute paths and `..` components (zip-slip) are reported and skipped, as are names that
/// are not UTF-8. Directories are passed over; symbolic and hard links are never followed, and
/// are reported and skipped. A byte budget stops archives that decompress to far more than
/// they weigh (decompression bombs).
public enum ArchiveReader {
    /// Calls `body` with each regular-file entry in archive order, one at a time, so an archive
    /// larger than memory can be streamed.
    ///
    /// - Parameters:
    ///   - wanted: decides from the path whether an entry's bytes are read at all
    ///     (entries not wanted are skipped without decompressing them into memory).
    ///   - byteBudget: the most decompressed bytes all read entries may hold together; a
    ///     small archive that expands past it (a decompression bomb) stops the read. nil: no limit.
    /// - Returns: the entries that were skipped and why.
    /// - Throws: `.io` if the archive cannot be opened, `.unsupported` if libarchive does not
    ///   recognise the format, `.corrupt` (naming the archive and the entry) if the archive is
    ///   truncated or damaged, `.invalidData` past `byteBudget`, and whatever `body` throws.
    @discardableResult
    public static func forEachEntry(in archivePath: String, where wanted: (String) -> Bool = { _ in true },
                                    byteBudget: Int? = nil,
                                    _ body: (ArchiveEntry) throws -> Void) throws -> [LoadProblem] {
        let reader = try openForReading(archivePath)
        defer { archive_read_free(reader) }
        var problems: [LoadProblem] = []
        var budgetLeft = byteBudget ?? Int.max
        while let entry = try nextHeader(reader, archivePath) {
            guard let name = checkedName(entry, archivePath, &problems) else { continue }
            guard archive_entry_filetype(entry) == fileTypeRegular, archive_entry_hardlink(entry) == nil else {
                if archive_entry_hardlink(entry) != nil {
                    problems.append(LoadProblem(path: "\(archivePath)/\(name)", reason: "hard link in archive — skipped"))
                } else if archive_entry_filetype(entry) == fileTypeSymbolicLink {
                    // Never followed: a link could point anywhere on the machine reading the archive.
                    problems.append(LoadProblem(path: "\(archivePath)/\(name)", reason: "symbolic link in archive — skipped"))
                }
                continue
            }
            guard wanted(name) else { continue }
            let data = try readData(reader, entry, archivePath, name, budgetLeft: budgetLeft, budget: byteBudget)
            budgetLeft -= data.count
            try body(ArchiveEntry(path: name, data: data))
        }
        return problems
    }

    /// Reads every (wanted) regular-file entry into memory, at most `byteBudget` bytes in all.
    public static func readAll(_ archivePath: String, where wanted: (String) -> Bool = { _ in true },
                               byteBudget: Int? = nil) throws -> (entries: [ArchiveEntry], problems: [LoadProblem]) {
        var entries: [ArchiveEntry] = []
        let problems = try forEachEntry(in: archivePath, where: wanted, byteBudget: byteBudget) { entries.append($0) }
        return (entries, problems)
    }

    /// Extracts the regular files and folders of an archive under `directory` (created if needed).
    ///
    /// Unsafe paths, links and non-UTF-8 names are skipped and returned as problems. Our own
    /// check runs first because the destination prefix makes every path absolute, which rules
    /// out libarchive's `SECURE_NOABSOLUTEPATHS`; libarchive's `SECURE_NODOTDOT` and
    /// `SECURE_SYMLINKS` still guard the write itself (no `..`, no writing through a symlink
    /// already on disk). Owners and permissions from the archive are not restored.
    ///
    /// - Throws: as `forEachEntry`, and `.io` when a file cannot be written. A failure can leave
    ///   some files behind: extract into a fresh folder and rename it into place (as
    ///   `DatasetDownload` does) when that matters.
    @discardableResult
    public static func extract(_ archivePath: String, to directory: String) throws -> [LoadProblem] {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw PerceptError.io(directory, "cannot create the folder: \(error.localizedDescription)")
        }
        let reader = try openForReading(archivePath)
        defer { archive_read_free(reader) }
        guard let writer = archive_write_disk_new() else { throw PerceptError.io(directory, "libarchive: out of memory") }
        defer { archive_write_free(writer) }
        archive_write_disk_set_options(writer, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS)

        var problems: [LoadProblem] = []
        while let entry = try nextHeader(reader, archivePath) {
            guard let name = checkedName(entry, archivePath, &problems) else { continue }
            let type = archive_entry_filetype(entry)
            guard (type == fileTypeRegular || type == fileTypeDirectory), archive_entry_hardlink(entry) == nil else {
                problems.append(LoadProblem(path: "\(archivePath)/\(name)", reason: "link or special file in archive — not extracted"))
                continue
            }
            archive_entry_copy_pathname(entry, "\(directory)/\(name)")
            let status = archive_write_header(writer, entry)
            if status < ARCHIVE_WARN {
                let reason = libarchiveMessage(writer)
                if status == ARCHIVE_FATAL { throw PerceptError.io("\(directory)/\(name)", "cannot extract: \(reason)") }
                problems.append(LoadProblem(path: "\(archivePath)/\(name)", reason: "not extracted: \(reason)"))
                continue
            }
            if type == fileTypeRegular { try copyData(reader, writer, archivePath, name, directory) }
            if archive_write_finish_entry(writer) < ARCHIVE_WARN {
                throw PerceptError.io("\(directory)/\(name)", "cannot finish writing: \(libarchiveMessage(writer))")
            }
        }
        if archive_write_close(writer) < ARCHIVE_WARN {
            throw PerceptError.io(directory, "cannot finish extracting: \(libarchiveMessage(writer))")
        }
        return problems
    }

    /// Whether an entry path stays inside the folder it is extracted to: relative, no `..`.
    /// Backslashes count as separators too, since zip files written on Windows may use them.
    public static func isSafe(path: String) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.hasPrefix("\\") else { return false }
        let components = path.split(whereSeparator: { $0 == "/" || $0 == "\\" })
        if let first = components.first, first.count == 2, first.last == ":" { return false }  // C:
        return !components.contains("..")
    }

    // MARK: - libarchive plumbing

    // AE_IFREG / AE_IFDIR are cast macros, which Swift does not import.
    private static let fileTypeRegular: UInt32 = 0o100000
    private static let fileTypeDirectory: UInt32 = 0o040000
    private static let fileTypeSymbolicLink: UInt32 = 0o120000

    private static func openForReading(_ archivePath: String) throws -> OpaquePointer {
        guard FileManager.default.fileExists(atPath: archivePath) else { throw PerceptError.io(archivePath, "no such file") }
        guard let reader = archive_read_new() else { throw PerceptError.io(archivePath, "libarchive: out of memory") }
        // Every filter and format libarchive has, but not "raw": that would accept any file.
        archive_read_support_filter_all(reader)
        archive_read_support_format_all(reader)
        if archive_read_open_filename(reader, archivePath, 1 << 16) != ARCHIVE_OK {
            let error = classify(reader, archivePath, entry: nil)
            archive_read_free(reader)
            throw error
        }
        return reader
    }

    /// The next entry header, or nil at the end of the archive.
    private static func nextHeader(_ reader: OpaquePointer, _ archivePath: String) throws -> OpaquePointer? {
        var entry: OpaquePointer?
        while true {
            let status = archive_read_next_header(reader, &entry)
            switch status {
            case ARCHIVE_EOF: return nil
            case ARCHIVE_OK, ARCHIVE_WARN: return entry
            case ARCHIVE_RETRY: continue
            default: throw classify(reader, archivePath, entry: nil)
            }
        }
    }

    /// The entry's path if it is safe to use; otherwise records why not and returns nil.
    private static func checkedName(_ entry: OpaquePointer, _ archivePath: String, _ problems: inout [LoadProblem]) -> String? {
        let raw: [UInt8]
        if let utf8 = archive_entry_pathname_utf8(entry) {
            raw = Array(UnsafeBufferPointer(start: utf8, count: strlen(utf8))).map { UInt8(bitPattern: $0) }
        } else if let native = archive_entry_pathname(entry) {
            raw = Array(UnsafeBufferPointer(start: native, count: strlen(native))).map { UInt8(bitPattern: $0) }
        } else {
            problems.append(LoadProblem(path: archivePath, reason: "entry without a name — skipped"))
            return nil
        }
        guard let name = String(validating: raw, as: UTF8.self) else {
            problems.append(LoadProblem(path: "\(archivePath)/\(String(decoding: raw, as: UTF8.self))",
                                        reason: "entry name is not UTF-8 — skipped"))
            return nil
        }
        guard isSafe(path: name) else {
            problems.append(LoadProblem(path: archivePath, reason: "unsafe path in archive: \(name) — skipped"))
            return nil
        }
        var clean = name
        while clean.hasPrefix("./") { clean.removeFirst(2) }
        return clean.isEmpty ? nil : clean
    }

    private static func readData(_ reader: OpaquePointer, _ entry: OpaquePointer, _ archivePath: String,
                                 _ name: String, budgetLeft: Int, budget: Int?) throws -> [UInt8] {
        var data: [UInt8] = []
        if archive_entry_size_is_set(entry) != 0 {
            // The declared size is only a hint (it comes from the archive); cap the reservation.
            data.reserveCapacity(Int(min(max(archive_entry_size(entry), 0), Int64(min(budgetLeft, 1 << 30)))))
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { archive_read_data(reader, $0.baseAddress, $0.count) }
            if count == 0 { return data }
            if count < 0 { throw classify(reader, archivePath, entry: name) }
            // Checked as the bytes arrive, so a bomb is stopped after at most one chunk over the budget.
            if count > budgetLeft - data.count, let budget {
                throw PerceptError.invalidData(
                    "the archive expands to more than \(budget) bytes (stopped while reading \(name)); "
                        + "split it or raise the limit", path: archivePath)
            }
            data.append(contentsOf: chunk[0..<count])
        }
    }

    private static func copyData(_ reader: OpaquePointer, _ writer: OpaquePointer, _ archivePath: String,
                                 _ name: String, _ directory: String) throws {
        var buffer: UnsafeRawPointer?
        var size = 0
        var offset: Int64 = 0
        while true {
            let status = archive_read_data_block(reader, &buffer, &size, &offset)
            if status == ARCHIVE_EOF { return }
            if status < ARCHIVE_WARN { throw classify(reader, archivePath, entry: name) }
            if archive_write_data_block(writer, buffer, size, offset) < ARCHIVE_WARN {
                throw PerceptError.io("\(directory)/\(name)", "cannot write: \(libarchiveMessage(writer))")
            }
        }
    }

    /// Turns libarchive's last error into the right `PerceptError` for the archive.
    private static func classify(_ archive: OpaquePointer, _ archivePath: String, entry: String?) -> PerceptError {
        let message = libarchiveMessage(archive)
        let code = archive_errno(archive)
        if code == ENOENT || code == EACCES || code == EISDIR {
            return .io(archivePath, "cannot open the archive: \(message)")
        }
        if entry == nil, message.localizedCaseInsensitiveContains("unrecognized archive format") {
            return .unsupported(archivePath, "not an archive libarchive can read (zip, tar, tar.gz, 7z …): \(message)")
        }
        let place = entry.map { " while reading \($0)" } ?? ""
        return .corrupt(archivePath, "truncated or damaged archive\(place): \(message)")
    }

    private static func libarchiveMessage(_ archive: OpaquePointer) -> String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
    }
}
