import Logging
import ServiceLifecycle
import Synchronization

/// Writes job states to the store in the background, coalescing many updates of one job into one
/// row write.
///
/// Progress changes about ten times a second per job; writing each would make SQLite the
/// bottleneck at a few hundred jobs. Only the newest state of each job matters, so states wait
/// here (latest wins) and are written in one transaction per `interval`. Terminal states do not go
/// through here: the coordinator writes those itself and waits for them.
public final class JobStateWriter: Service, Sendable {
    private let store: any JobStore
    private let interval: Duration
    private let logger: Logger
    private let pending = Mutex<[JobID: Job]>([:])

    public init(store: any JobStore, interval: Duration = .milliseconds(500), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    /// Queues `job` to be written; replaces any older queued state of the same job.
    public func enqueue(_ job: Job) {
        pending.withLock { $0[job.id] = job }
    }

    /// Drops a queued state that a synchronous write has overtaken.
    public func discard(_ id: JobID) {
        _ = pending.withLock { $0.removeValue(forKey: id) }
    }

    /// Writes everything queued now.
    public func flush() async {
        let jobs = pending.withLock { pending in
            let jobs = Array(pending.values)
            pending.removeAll(keepingCapacity: true)
            return jobs
        }
        guard !jobs.isEmpty else { return }
        do {
            try await store.save(jobs)
        } catch {
            logger.error("saving job states failed", metadata: ["error": "\(error)", "jobs": "\(jobs.count)"])
            // Put them back unless something newer arrived meanwhile.
            pending.withLock { pending in
                for job in jobs where pending[job.id] == nil { pending[job.id] = job }
            }
        }
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            await flush()
        }
        await flush()
    }
}
