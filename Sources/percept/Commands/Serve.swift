import ArgumentParser
import Dispatch
import Foundation
import Percept
import PerceptServer

/// `percept serve`: the AutoML flow in a browser — upload a dataset, look at its labels, train, evaluate,
/// predict — served from this machine, nothing sent anywhere.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the web app: datasets, training, evaluation and prediction in a browser, on this machine.",
        discussion: """
            Open http://127.0.0.1:8080 after starting it. Datasets, runs and models are kept in --data-dir
            (an SQLite database and the files it points at), so a restarted server finds them again; a run
            cut off by a killed server shows as interrupted. The JSON API (README, "percept serve") lets
            scripts do the same with curl.

            Examples:
              percept serve
              percept serve --port 9000 --data-dir ~/percept-projects --workers 2
            """)

    @Option(help: "Address to listen on; anything but loopback exposes the app to the network.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8080

    @Option(help: "Folder for the database, datasets and models (default ~/.percept/server).")
    var dataDir: String?

    @Option(help: "Largest upload accepted, e.g. 2GB, 500MB.")
    var maxUpload = "2GB"

    @Option(help: "Trainings run at once.")
    var workers = 1

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be 1…65535 (got \(port))") }
        guard workers >= 1 else { throw ValidationError("--workers must be at least 1 (got \(workers))") }
        guard Serve.bytes(maxUpload) != nil else {
            throw ValidationError("--max-upload takes a size such as 2GB, 500MB or 1048576 (got \(maxUpload))")
        }
    }

    /// "2GB", "500MB", "64KB" or a plain byte count.
    static func bytes(_ text: String) -> Int? {
        let units: [(String, Int)] = [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)]
        let upper = text.uppercased().trimmingCharacters(in: .whitespaces)
        for (suffix, scale) in units where upper.hasSuffix(suffix) {
            return Double(upper.dropLast(suffix.count)).flatMap { $0 > 0 ? Int($0 * Double(scale)) : nil }
        }
        return Int(upper).flatMap { $0 > 0 ? $0 : nil }
    }

    func run() throws {
        let folder = dataDir.map { ($0 as NSString).expandingTildeInPath }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".percept/server").path
        if !["127.0.0.1", "::1", "localhost"].contains(host) {
            Terminal.warning("listening on \(host): anyone who can reach this machine can upload data and train; "
                + "the default 127.0.0.1 keeps the app to this machine")
        }
        let service = try LocalPerceptService(dataDirectory: URL(fileURLWithPath: folder), workers: workers)
        print("percept serve: http://\(host == "::1" ? "[::1]" : host):\(port) (data in \(folder))")
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: Error?
        let (host, port, limit) = (host, port, Serve.bytes(maxUpload) ?? (2 << 30))
        Task {
            do {
                // Uploads land beside the store, so taking one into a dataset is a rename, not a copy.
                try await runPerceptServer(service: service, host: host, port: port, maxUploadBytes: limit,
                                           uploadDirectory: URL(fileURLWithPath: folder).appendingPathComponent("uploads"))
            } catch {
                failure = error
            }
            done.signal()
        }
        done.wait()
        if let failure { throw failure }
    }
}
