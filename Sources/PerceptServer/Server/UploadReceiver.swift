import Foundation
import Hummingbird
import MultipartKit
import Percept

/// A file part of an upload, already on disk under a name the server made.
struct UploadedFile: Sendable {
    /// The form field (`file`).
    var field: String
    /// The client's file name reduced to something safe to show (never used as a path).
    var displayName: String
    /// The client's file name as sent (`cat/1.jpg` from a folder drop): read for a label, never used as a path.
    var clientName: String = ""
    var url: URL
    var bytes: Int
}

/// A `multipart/form-data` request body: its text fields and its files.
struct ReceivedForm: Sendable {
    /// Each text field's last value.
    var fields: [String: String] = [:]
    /// Every value of each text field, in the order sent (one `label` per file).
    var fieldValues: [String: [String]] = [:]
    var files: [UploadedFile] = []
    /// File parts kept in memory instead (`receive(…filesInMemory: true)`), each named by its display name.
    var images: [(field: String, image: ArchiveEntry)] = []

    func removeFiles() {
        for file in files { try? FileManager.default.removeItem(at: file.url) }
    }
}

/// Reads a multipart upload as it arrives: MultipartKit's streaming parser splits the parts, file
/// parts go straight to temporary files (never whole in memory) — or, for photos to predict, stay
/// in memory (`filesInMemory`, bounded by `maxBytes`) — and the byte count is checked
/// against the limit on every chunk, so an oversized body is refused (413) as soon as it passes
/// the limit — or at once when its `Content-Length` already says so — and nothing of it is kept.
enum UploadReceiver {
    /// The largest text field (a dataset name) accepted; text fields are held in memory.
    static let maxFieldBytes = 64 * 1024
    /// At most this much room is set aside ahead for a body held in memory, whatever its `Content-Length`
    /// claims (a client could claim the limit and send a few bytes); larger bodies grow as they arrive.
    static let maxReservedBytes = 8 << 20

    /// The body's `Content-Length`, when the client sent one.
    static func declaredLength(of request: Request) -> Int? { request.headers[.contentLength].flatMap { Int($0) } }

    /// The room to set aside for what is left of a body held in memory: the declared length past `received`,
    /// at most `maxReservedBytes`.
    static func reservation(declaredLength: Int?, received: Int = 0) -> Int {
        min(maxReservedBytes, max(0, (declaredLength ?? 0) - received))
    }

    static func receive(_ request: Request, maxBytes: Int, directory: URL, filesInMemory: Bool = false) async throws -> ReceivedForm {
        guard let contentType = request.headers[.contentType], let mediaType = MediaType(from: contentType),
              mediaType.isType(.multipartForm), let parameter = mediaType.parameter, parameter.name.lowercased() == "boundary",
              // Without the quotes it may come in (a boundary never holds one: RFC 2046's bchars).
              case let boundary = String(parameter.value.drop { $0 == "\"" }.prefix { $0 != "\"" }), !boundary.isEmpty
        else { throw ServiceError.badRequest("expected a multipart/form-data body (a form with a file field)") }
        let declared = declaredLength(of: request)
        if let declared, declared > maxBytes { throw ServiceError.tooLarge(tooLargeMessage(maxBytes)) }
        if !filesInMemory { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }

        let collector = FormCollector(directory: directory, filesInMemory: filesInMemory)
        collector.declaredLength = declared
        let parser = MultipartParser(boundary: boundary)
        parser.onHeader = { name, value in collector.header(name: name, value: value) }
        parser.onBody = { buffer in collector.body(&buffer) }
        parser.onPartComplete = { collector.partComplete() }
        do {
            var received = 0
            for try await buffer in request.body {
                collector.receivedBefore = received
                received += buffer.readableBytes
                if received > maxBytes { throw ServiceError.tooLarge(tooLargeMessage(maxBytes)) }
                do { try parser.execute(buffer) } catch {
                    throw ServiceError.badRequest("the multipart body is malformed")
                }
                if let failure = collector.failure { throw failure }
            }
            guard !collector.isInsidePart, collector.sawPart else {
                throw ServiceError.badRequest("the multipart body ends before its closing boundary")
            }
        } catch {
            collector.discard()
            throw error
        }
        return collector.form
    }

    /// A request's whole body (one photo sent as it is), refused with 413 past `maxBytes` and with 400 when empty.
    static func receiveBody(_ request: Request, maxBytes: Int) async throws -> [UInt8] {
        let declared = declaredLength(of: request)
        if let declared, declared > maxBytes { throw ServiceError.tooLarge(tooLargeMessage(maxBytes)) }
        var bytes: [UInt8] = []
        // Room for the declared length at once, so a photo's bytes are copied once.
        bytes.reserveCapacity(reservation(declaredLength: declared))
        for try await buffer in request.body {
            guard bytes.count + buffer.readableBytes <= maxBytes else { throw ServiceError.tooLarge(tooLargeMessage(maxBytes)) }
            buffer.withUnsafeReadableBytes { bytes.append(contentsOf: $0) }
        }
        guard !bytes.isEmpty else { throw ServiceError.badRequest("the body is empty: send the photo's bytes") }
        return bytes
    }

    static func tooLargeMessage(_ maxBytes: Int) -> String {
        "the upload is larger than the server's limit of \(ByteCountFormatter.string(fromByteCount: Int64(maxBytes), countStyle: .file))"
    }
}

/// The parser's callbacks: the headers of the part being read, then its bytes into a file or a field.
///
/// The parser hands a part's bytes over in many small pieces (it stops at every carriage return), so
/// the bytes so far live in one buffer of their own, appended to in place, rather than in the state enum.
private final class FormCollector {
    private enum Sink {
        case field(name: String)
        case file(UploadedFile, FileHandle)
        case memory(field: String, name: String)
        /// A part without a field name: read and dropped.
        case ignored
    }

    let directory: URL
    let filesInMemory: Bool
    private(set) var form = ReceivedForm()
    private var headers: [(name: String, value: String)] = []
    private var sink: Sink?
    /// The part's bytes so far, when it is held in memory (a text field, a photo to predict).
    private var partBytes: [UInt8] = []
    /// How many bytes the part has had so far (a file part's size).
    private var partByteCount = 0
    private(set) var failure: (any Error)?
    private(set) var sawPart = false
    /// The body's `Content-Length` (already checked against the limit), and how much of the body came
    /// before the chunk being parsed: an in-memory part reserves what is left (up to `maxReservedBytes`),
    /// so its bytes are copied once.
    var declaredLength: Int?
    var receivedBefore = 0

    init(directory: URL, filesInMemory: Bool) {
        self.directory = directory
        self.filesInMemory = filesInMemory
    }

    var isInsidePart: Bool { sink != nil || !headers.isEmpty }

    func header(name: String, value: String) {
        headers.append((name, value))
    }

    func body(_ buffer: inout ByteBuffer) {
        guard failure == nil else { return }
        if sink == nil { openPart() }
        partByteCount += buffer.readableBytes
        switch sink {
        case .field(let name):
            buffer.withUnsafeReadableBytes { partBytes.append(contentsOf: $0) }
            if partBytes.count > UploadReceiver.maxFieldBytes {
                failure = ServiceError.badRequest("the form field '\(name)' is longer than \(UploadReceiver.maxFieldBytes) bytes")
            }
        case .file(_, let handle):
            do { try handle.write(contentsOf: buffer.readableBytesView) } catch {
                failure = HTTPError(.internalServerError, message: "the server could not store the upload: \(error.localizedDescription)")
            }
        case .memory:
            buffer.withUnsafeReadableBytes { partBytes.append(contentsOf: $0) }
        case .ignored, nil:
            break
        }
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
    }

    func partComplete() {
        if sink == nil { openPart() }
        switch sink {
        case .field(let name):
            let text = String(decoding: partBytes, as: UTF8.self)
            form.fields[name] = text
            form.fieldValues[name, default: []].append(text)
        case .file(var file, let handle):
            try? handle.close()
            file.bytes = partByteCount
            form.files.append(file)
        case .memory(let field, let name):
            form.images.append((field, ArchiveEntry(path: name, data: partBytes)))
        case .ignored, nil: break
        }
        sink = nil
        headers = []
        partBytes = []
        partByteCount = 0
        sawPart = true
    }

    /// Everything written so far removed (a refused or broken upload keeps nothing).
    func discard() {
        if case .file(let file, let handle) = sink {
            try? handle.close()
            try? FileManager.default.removeItem(at: file.url)
        }
        sink = nil
        partBytes = []
        form.removeFiles()
        form = ReceivedForm()
    }

    private func openPart() {
        let disposition = headers.last { $0.name.lowercased() == "content-disposition" }?.value ?? ""
        let parameters = UploadNames.dispositionParameters(disposition)
        guard let field = parameters["name"], !field.isEmpty else { sink = .ignored; return }
        guard let clientName = parameters["filename"] else { sink = .field(name: field); return }
        let displayName = UploadNames.displayName(clientName)
        if filesInMemory {
            sink = .memory(field: field, name: displayName)
            partBytes.reserveCapacity(UploadReceiver.reservation(declaredLength: declaredLength, received: receivedBefore))
            return
        }
        let url = directory.appendingPathComponent(UploadNames.serverFileName(for: displayName))
        guard FileManager.default.createFile(atPath: url.path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = try? FileHandle(forWritingTo: url) else {
            failure = HTTPError(.internalServerError, message: "the server could not create a file for an upload")
            sink = .ignored
            return
        }
        sink = .file(UploadedFile(field: field, displayName: displayName, clientName: String(clientName.prefix(1000)), url: url,
                                  bytes: 0), handle)
    }
}
