/// A job store that forgets everything when the process ends: for tests and throwaway runs.
public actor InMemoryJobStore: JobStore {
    private var jobs: [JobID: Job] = [:]

    public init() {}

    public func migrate() async throws {}

    public func save(_ jobs: [Job]) async throws {
        for job in jobs { self.jobs[job.id] = job }
    }

    public func job(_ id: JobID) async throws -> Job? {
        jobs[id]
    }

    public func jobs(withStatus statuses: Set<JobStatus>) async throws -> [Job] {
        jobs.values.filter { statuses.contains($0.status) }.sorted { $0.createdAt < $1.createdAt }
    }
}
