import Foundation
import GRDB

/// The embedded default job store: one SQLite file (WAL mode) under the storage folder.
///
/// Each job is a row with the fields worth querying as columns and the whole ``Job`` as JSON, so the
/// schema need not change every time a field is added to the job.
public final class SQLiteJobStore: JobStore {
    private let database: DatabasePool

    /// Opens (creating if needed) the database at `path`.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // NORMAL is durable across process crashes in WAL mode, which is the failure Spool guards against.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        database = try DatabasePool(path: path, configuration: configuration)
    }

    public func migrate() async throws {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-jobs") { db in
            try db.create(table: "job") { table in
                table.primaryKey("id", .text)
                table.column("status", .text).notNull().indexed()
                table.column("step", .text).notNull()
                table.column("progress", .double).notNull()
                table.column("seq", .integer).notNull()
                table.column("url", .text).notNull()
                table.column("format", .text).notNull()
                table.column("quality", .text).notNull()
                table.column("errorCode", .text)
                table.column("createdAt", .datetime).notNull()
                table.column("startedAt", .datetime)
                table.column("finishedAt", .datetime)
                table.column("data", .blob).notNull()
            }
        }
        try migrator.migrate(database)
    }

    public func save(_ jobs: [Job]) async throws {
        guard !jobs.isEmpty else { return }
        let encoder = JSONEncoder()
        let rows = try jobs.map { job in (job, try encoder.encode(job)) }
        try await database.write { db in
            for (job, data) in rows {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO job
                        (id, status, step, progress, seq, url, format, quality, errorCode, createdAt, startedAt, finishedAt, data)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        job.id.rawValue, job.status.rawValue, job.step.rawValue, job.progress, job.seq, job.options.url,
                        job.options.format.rawValue, job.options.quality.text, job.error?.code, job.createdAt, job.startedAt,
                        job.finishedAt, data,
                    ]
                )
            }
        }
    }

    public func job(_ id: JobID) async throws -> Job? {
        let data = try await database.read { db in
            try Data.fetchOne(db, sql: "SELECT data FROM job WHERE id = ?", arguments: [id.rawValue])
        }
        return try data.map { try JSONDecoder().decode(Job.self, from: $0) }
    }

    public func jobs(withStatus statuses: Set<JobStatus>) async throws -> [Job] {
        let names = statuses.map(\.rawValue)
        let rows = try await database.read { db in
            try Data.fetchAll(
                db,
                sql: "SELECT data FROM job WHERE status IN (\(databaseQuestionMarks(count: names.count))) ORDER BY createdAt",
                arguments: StatementArguments(names)
            )
        }
        let decoder = JSONDecoder()
        return try rows.map { try decoder.decode(Job.self, from: $0) }
    }
}
