import Foundation
import Hummingbird
import Percept

/// `percept serve`: the AutoML flow as a local web app — the JSON API (`APIRoutes`), the server-sent
/// progress of runs (`RunEvents`) and the pages (`PageRoutes`) on Hummingbird, over a `PerceptService`.
public struct PerceptWebApp: Sendable {
    public static let defaultHost = "127.0.0.1"
    public static let defaultPort = 8080
    /// 2 GiB: a photo dataset's archive.
    public static let defaultMaxUploadBytes = 2 << 30
    /// 256 MiB: one prediction request's photos, which are held in memory.
    public static let maxPredictBytes = 256 << 20

    public var service: any PerceptService
    public var host: String
    public var port: Int
    /// The largest request body an upload may have; larger ones get 413 and nothing is stored.
    public var maxUploadBytes: Int
    /// Where uploads are written while they arrive (server-made names); the service moves dataset archives out.
    public var uploadDirectory: URL
    /// How often a run's event stream asks the service for news.
    public var eventPollInterval: Duration

    public init(service: any PerceptService, host: String = defaultHost, port: Int = defaultPort,
                maxUploadBytes: Int = defaultMaxUploadBytes, uploadDirectory: URL? = nil,
                eventPollInterval: Duration = .milliseconds(250)) {
        self.service = service
        self.host = host
        self.port = port
        self.maxUploadBytes = maxUploadBytes
        self.uploadDirectory = uploadDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("percept-uploads", isDirectory: true)
        self.eventPollInterval = eventPollInterval
    }

    /// Whether `host` only accepts connections from this machine.
    public var isLoopback: Bool { Self.isLoopback(host) }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }

    /// What the CLI prints before serving on a host other machines can reach; nil on loopback.
    public var exposureWarning: String? {
        isLoopback ? nil : "warning: serving on \(host):\(port) lets other machines on the network upload data, train and "
            + "download models; there is no login. Use --host 127.0.0.1 unless that is what you want."
    }

    /// Every route: middlewares first (they wrap only the routes added after them), then the API and pages.
    public func buildRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: SameOriginMiddleware())
        APIRoutes(app: self).add(to: router)
        PageRoutes(service: service, offersFolderImport: isLoopback).add(to: router)
        return router
    }

    public func buildApplication() -> some ApplicationProtocol {
        Application(router: buildRouter(),
                    configuration: .init(address: .hostname(host, port: port), serverName: "percept"))
    }

    /// Serves until the process is stopped (SIGINT/SIGTERM end it gracefully).
    public func run() async throws {
        try await buildApplication().runService()
    }
}

/// The entry point `percept serve` calls: serves until stopped. The CLI warns about a non-loopback
/// host itself (`PerceptWebApp.exposureWarning` says the same for other callers). `uploadDirectory`
/// is best inside the service's data folder, so moving an archive into the store is a rename.
public func runPerceptServer(service: any PerceptService, host: String, port: Int, maxUploadBytes: Int,
                             uploadDirectory: URL? = nil) async throws {
    try await PerceptWebApp(service: service, host: host, port: port, maxUploadBytes: maxUploadBytes,
                            uploadDirectory: uploadDirectory).run()
}
