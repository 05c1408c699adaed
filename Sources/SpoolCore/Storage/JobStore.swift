/// Where jobs are kept so that none is lost across restarts.
///
/// Spool talks to storage only through this protocol: SQLite (``SQLiteJobStore``) is the embedded
/// default, ``InMemoryJobStore`` serves tests and throwaway runs, and PostgreSQL can follow for
/// several nodes without touching the pipeline.
public protocol JobStore: Sendable {
    /// Creates or upgrades the schema; called once before the server accepts requests.
    func migrate() async throws
    /// Inserts or replaces each job (the newest state wins).
    func save(_ jobs: [Job]) async throws
    /// One job, or nil when the id is unknown.
    func job(_ id: JobID) async throws -> Job?
    /// Jobs in any of `statuses`, oldest first (restart recovery re-queues them in this order).
    func jobs(withStatus statuses: Set<JobStatus>) async throws -> [Job]
}
