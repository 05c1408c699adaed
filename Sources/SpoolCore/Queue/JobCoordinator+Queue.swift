import Foundation

/// What a worker needs to run one job.
public struct JobTicket: Sendable {
    public let id: JobID
    public let options: ConversionOptions
    /// Finishes when the user cancels the job.
    public let cancelSignal: AsyncStream<Void>
}

extension JobCoordinator {
    /// The next job to run, in FIFO order, if a worker slot is free. The remaining queued jobs are
    /// told their new places.
    public func nextJob() -> JobTicket? {
        guard let ticket = startNext() else { return nil }
        announceQueuePositions(from: 0)
        return ticket
    }

    /// Every job that fits in the free worker slots, in FIFO order; the jobs left waiting are told
    /// their new places once, after all have started. Starting them one by one would tell each
    /// waiting job its place once per started job: a burst of N submissions would cost N²/2
    /// frames (BENCHMARKS.md measured 490,000 for 1,000 jobs).
    public func nextJobs() -> [JobTicket] {
        var tickets: [JobTicket] = []
        while let ticket = startNext() { tickets.append(ticket) }
        if !tickets.isEmpty { announceQueuePositions(from: 0) }
        return tickets
    }

    private func startNext() -> JobTicket? {
        while running.count < settings.maxConcurrentJobs, !pending.isEmpty {
            let id = pending.removeFirst()
            guard var job = jobs[id] else { continue }
            job.status = .running
            job.step = .metadata
            job.queuePosition = nil
            job.startedAt = Date()
            job.attempts += 1
            job.message = job.attempts > 1 ? "Starting again after a server restart" : "Starting"
            jobs[id] = job
            let (signal, continuation) = AsyncStream.makeStream(of: Void.self)
            running[id] = continuation
            publish(job, kind: .progress)
            writer.enqueue(jobs[id] ?? job)
            return JobTicket(id: id, options: job.options, cancelSignal: signal)
        }
        return nil
    }

    /// Tells each queued job from `index` on its (new) place in the queue.
    func announceQueuePositions(from index: Int) {
        guard index < pending.count else { return }
        for position in index..<pending.count {
            let id = pending[position]
            guard var job = jobs[id], job.queuePosition != position + 1 else { continue }
            job.queuePosition = position + 1
            job.message = position == 0 ? "Next in the queue" : "Waiting in the queue: \(position) ahead"
            publish(job, kind: .progress)
        }
    }

    /// A shutdown interrupted the job: it goes back to the queue, so the next start runs it.
    func requeueAfterShutdown(_ id: JobID) async {
        guard var job = jobs[id] else { return }
        job.status = .queued
        job.step = .queued
        job.message = "Interrupted by a server restart; will run again"
        jobs[id] = job
        publish(job, kind: .progress)
        await persistNow(jobs[id] ?? job)
    }

    /// Picks up the jobs a previous run of the server left queued or running: queued ones keep
    /// their place, running ones run again (up to `maxAttempts`, after which they fail as
    /// `INTERRUPTED`, retryable, so one poisonous job cannot crash-loop the server).
    ///
    /// Progress states are written in batches, so the stored `seq` may trail the last one a client
    /// saw before a crash. The numbering therefore jumps ahead by ``Settings/seqGapAfterRestart``:
    /// a number is never used twice, and a client that resumes gets a `resync` snapshot.
    public func recover() async throws -> (requeued: Int, failed: Int) {
        let leftovers = try await store.jobs(withStatus: [.queued, .running])
        var requeued = 0
        var failed = 0
        for var job in leftovers where jobs[job.id] == nil {
            histories[job.id] = EventHistory(capacity: settings.historyCapacity)
            job.seq += settings.seqGapAfterRestart
            if job.status == .running && job.attempts >= settings.maxAttempts {
                jobs[job.id] = job
                _ = await end(job.id, status: .failed, step: .failed, message: SpoolError.interrupted().message, error: .interrupted())
                failed += 1
                continue
            }
            job.status = .queued
            job.step = .queued
            job.queuePosition = pending.count + 1
            job.message = "Waiting in the queue after a server restart"
            jobs[job.id] = job
            pending.append(job.id)
            publish(job, kind: .progress)
            writer.enqueue(jobs[job.id] ?? job)
            requeued += 1
        }
        if requeued > 0 { wakeupContinuation.yield() }
        return (requeued, failed)
    }
}
