import Foundation

/// Where the web app keeps its things under `--data-dir`: the database, uploads being imported,
/// dataset packs and model files. Files are named by row id only, never by a client-given name.
///
/// Paths to files say `isDirectory: false`: without it, Foundation asks the file system on every call
/// (one `stat` per prediction request, which looks its model's file up here).
struct DataDirectory: Sendable {
    let root: URL

    var database: URL { root.appendingPathComponent("percept.sqlite", isDirectory: false) }
    var uploads: URL { root.appendingPathComponent("uploads", isDirectory: true) }
    var datasets: URL { root.appendingPathComponent("datasets", isDirectory: true) }
    var models: URL { root.appendingPathComponent("models", isDirectory: true) }
    var checkpoints: URL { root.appendingPathComponent("checkpoints", isDirectory: true) }

    /// Creates the folders that do not exist yet.
    func create() throws {
        for folder in [root, uploads, datasets, models, checkpoints] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
    }

    func upload(dataset id: Int64) -> URL { uploads.appendingPathComponent("\(id).upload", isDirectory: false) }
    /// Images dropped one by one, with their `LabelledFiles` listing.
    func uploadBundle(dataset id: Int64) -> URL { uploads.appendingPathComponent("\(id).files", isDirectory: true) }
    static func packName(dataset id: Int64) -> String { "\(id).pack" }
    func pack(named name: String) -> URL { datasets.appendingPathComponent(name, isDirectory: false) }
    static func modelName(run id: Int64) -> String { "run-\(id).percept" }
    func model(named name: String) -> URL { models.appendingPathComponent(name, isDirectory: false) }
    func checkpoint(run id: Int64) -> URL { checkpoints.appendingPathComponent("run-\(id).ckpt", isDirectory: false) }
}
