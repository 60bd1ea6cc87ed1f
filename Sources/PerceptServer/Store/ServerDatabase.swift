import Foundation
import GRDB

/// The web app's SQLite database: a WAL-mode `DatabasePool` (readers never wait for the writer,
/// and a crash mid-write loses nothing committed) with its schema built by migrations.
enum ServerDatabase {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    static func open(at path: String) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // A busy writer makes others wait a little instead of failing at once.
        configuration.busyMode = .timeout(5)
        let pool = try DatabasePool(path: path, configuration: configuration)
        try migrator.migrate(pool)
        return pool
    }

    /// Every schema change, in order; a migration already applied is never run again.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "dataset") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("name", .text).notNull()
                table.column("state", .text).notNull()
                table.column("progress", .double).notNull().defaults(to: 0)
                table.column("packFile", .text)
                table.column("imageCount", .integer).notNull().defaults(to: 0)
                table.column("labelCounts", .text).notNull()
                table.column("splitCounts", .text).notNull()
                table.column("warnings", .text).notNull()
                table.column("problems", .text).notNull()
                table.column("error", .text)
                table.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "run") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("datasetId", .integer).notNull().indexed().references("dataset", onDelete: .cascade)
                table.column("family", .text).notNull()
                table.column("options", .text).notNull()
                table.column("state", .text).notNull().indexed()
                table.column("progress", .double).notNull().defaults(to: 0)
                table.column("message", .text)
                table.column("history", .text)
                table.column("log", .text).notNull().defaults(to: "")
                table.column("error", .text)
                // Not a foreign key: the model row is written after the run row and points back at it.
                table.column("modelId", .integer)
                table.column("createdAt", .datetime).notNull()
                table.column("startedAt", .datetime)
                table.column("finishedAt", .datetime)
            }
            try db.create(table: "model") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("runId", .integer).notNull().indexed().references("run", onDelete: .cascade)
                table.column("fileName", .text).notNull()
                table.column("family", .text).notNull()
                table.column("classes", .text).notNull()
                table.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "evaluation") { table in
                table.primaryKey("modelId", .integer).references("model", onDelete: .cascade)
                table.column("document", .text).notNull()
                table.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "prediction") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("modelId", .integer).notNull().indexed().references("model", onDelete: .cascade)
                table.column("inputName", .text).notNull()
                table.column("document", .text).notNull()
                table.column("createdAt", .datetime).notNull()
            }
        }
        // The dataset page's split editor and image statistics, the run page's training curve and
        // the split each run trained on, the model page's per-image test predictions.
        migrator.registerMigration("v2") { db in
            try db.alter(table: "dataset") { table in
                table.add(column: "splitPlan", .text)
                table.add(column: "imageStatistics", .text)
                // A dataset imported from a folder on the server machine: where, to import again after a restart.
                table.add(column: "sourceFolder", .text)
            }
            try db.alter(table: "run") { table in
                table.add(column: "splitPlan", .text)
                table.add(column: "curve", .text)
            }
            try db.alter(table: "evaluation") { table in
                table.add(column: "predictions", .text)
            }
        }
        return migrator
    }
}
