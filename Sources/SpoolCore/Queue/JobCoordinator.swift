import Foundation
import Logging

/// The one owner of every live job's state: its queue place, its event numbering, its subscribers.
///
/// Keeping all of it in one actor is what makes the delivery rules hold without locks: an event
/// gets its `seq`, joins the history and reaches every subscriber in one step, and a new
/// subscriber's snapshot and replay happen in one step too, so nothing can slip between them.
/// The pipelines run outside (see ``JobRunnerService``) and report here.
///
/// It runs on ``ProgressExecutor``, which takes progress reports (``post(_:_:then:)``) ahead of
/// everything else, so a job's progress keeps flowing while a thousand others change step.
public actor JobCoordinator {
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        ProgressExecutor.shared.asUnownedSerialExecutor()
    }

    /// Tunables, all with defaults that suit one small server.
    public struct Settings: Sendable {
        public var maxConcurrentJobs: Int
        /// Events kept per job for replay after a reconnect.
        public var historyCapacity: Int
        /// Finished jobs kept in memory (older ones are read back from the store on demand).
        public var finishedCacheSize: Int
        /// A job interrupted by restarts this many times fails instead of running again.
        public var maxAttempts: Int
        /// How far a recovered job's `seq` jumps: more than the events that can happen between two
        /// background writes (about ten a second per job, written every half second).
        public var seqGapAfterRestart: Int = 1000

        public init(maxConcurrentJobs: Int = ProcessInfo.processInfo.activeProcessorCount, historyCapacity: Int = 128, finishedCacheSize: Int = 256, maxAttempts: Int = 3) {
            self.maxConcurrentJobs = max(1, maxConcurrentJobs)
            self.historyCapacity = historyCapacity
            self.finishedCacheSize = finishedCacheSize
            self.maxAttempts = maxAttempts
        }
    }

    /// How a run of the pipeline ended.
    public enum RunOutcome: Sendable {
        case completed(ConversionPipeline.Output)
        case failed(SpoolError)
        /// The run was cancelled: by the user (the job ends `cancelled`) or by a shutdown (it is queued again).
        case cancelled
    }

    let settings: Settings
    let store: any JobStore
    let writer: JobStateWriter
    var logger: Logger
    let encoder = FrameEncoder()

    var jobs: [JobID: Job] = [:]
    var histories: [JobID: EventHistory] = [:]
    var pending: [JobID] = []
    var running: [JobID: AsyncStream<Void>.Continuation] = [:]
    var cancelRequested: Set<JobID> = []
    var finishedOrder: [JobID] = []
    var subscribers: [JobID: [ObjectIdentifier: any EventSubscriber]] = [:]
    public internal(set) var subscriptionCount = 0
    /// Jobs that ended, by final status, since this process started (for `/metrics`).
    public internal(set) var endedTotals: [JobStatus: Int] = [:]
    let wakeups: AsyncStream<Void>
    let wakeupContinuation: AsyncStream<Void>.Continuation

    public init(settings: Settings, store: any JobStore, writer: JobStateWriter, logger: Logger) {
        self.settings = settings
        self.store = store
        self.writer = writer
        self.logger = logger
        (wakeups, wakeupContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    // MARK: Commands

    /// Accepts a validated request: the job is stored before anyone hears of it, then queued, and
    /// `subscriber` (the requesting connection) is subscribed before `conversion_started` goes out.
    /// `conversion_started` reaches that subscriber echoing `replyID`, as a direct reply should.
    public func submit(
        _ options: ConversionOptions, subscriber: (any EventSubscriber)? = nil, replyID: String? = nil
    ) async throws(SpoolError) -> Job {
        var job = Job(id: .make(), options: options, createdAt: Date())
        job.seq = 1
        job.queuePosition = pending.count + 1
        do {
            try await store.save([job])
        } catch {
            logger.error("saving a new job failed", metadata: ["error": "\(error)"])
            throw .storageFailed("The server could not record the job; try again.")
        }
        // The queue may have moved during the save.
        job.queuePosition = pending.count + 1
        jobs[job.id] = job
        histories[job.id] = EventHistory(capacity: settings.historyCapacity)
        pending.append(job.id)
        publish(job, kind: .started)
        if let subscriber {
            let payload = EventPayload(job: job, kind: .started, at: Date())
            subscriber.deliver(reply: encoder.frame(type: JobEvent.Kind.started.rawValue, id: replyID, payload: payload))
            addSubscriber(subscriber, to: job.id)
        }
        logger.info("job queued", metadata: ["job.id": "\(job.id)", "job.format": "\(options.format.rawValue)", "job.quality": "\(options.quality.text)"])
        wakeupContinuation.yield()
        return job
    }

    /// Cancels a queued job at once, or asks a running one to stop (its pipeline ends it).
    public func cancel(_ id: JobID) async throws(SpoolError) -> Job {
        guard let job = try await lookup(id) else { throw .jobNotFound(id.rawValue) }
        if job.status.isTerminal { throw .jobFinished(job.status) }
        if let index = pending.firstIndex(of: id) {
            pending.remove(at: index)
            let ended = await end(id, status: .cancelled, step: .cancelled, message: "Cancelled", error: nil)
            // From the front: the queue may have moved while the end was being stored.
            announceQueuePositions(from: 0)
            return ended
        }
        if let signal = running[id] {
            cancelRequested.insert(id)
            signal.finish()
        }
        return jobs[id] ?? job
    }

    /// The current state of a job, from memory or the store.
    public func job(_ id: JobID) async throws(SpoolError) -> Job? {
        try await lookup(id)
    }

    /// Counts for `/api/ws/info` and metrics.
    public var counts: (queued: Int, running: Int, subscriptions: Int) {
        (pending.count, running.count, subscriptionCount)
    }

    // MARK: Reports from the pipeline

    /// Applies one progress report. Progress never goes backwards and is only taken while running.
    public func report(_ id: JobID, _ update: ProgressUpdate) {
        guard var job = jobs[id], job.status == .running else { return }
        job.step = update.step
        // A re-run after a restart starts its tools from zero while the figure holds at the
        // earlier run's best; say so, so the bar and the text do not seem to disagree.
        job.message = job.attempts > 1 && update.progress < job.progress ? "Catching up after a restart · \(update.message)" : update.message
        job.progress = min(max(job.progress, update.progress), 99.9)
        if let source = update.source { job.source = source }
        jobs[id] = job
        publish(job, kind: .progress, live: update.live)
        // The writer keeps only the newest state per job and writes in batches, so this is cheap.
        writer.enqueue(jobs[id] ?? job)
    }

    /// Applies a progress report without the caller waiting: the way the event loop that reads a
    /// tool's output reports. Reports are urgent work on ``ProgressExecutor``, in one FIFO queue, so
    /// those of one job apply in the order they were posted; `then` runs once it is applied.
    public nonisolated func post(_ id: JobID, _ update: ProgressUpdate, then done: (@Sendable () -> Void)? = nil) {
        ProgressExecutor.shared.runUrgently { [self] in
            assumeIsolated { coordinator in coordinator.report(id, update) }
            done?()
        }
    }

    /// Ends a run of the pipeline and tells everyone.
    public func finish(_ id: JobID, outcome: RunOutcome) async {
        running[id] = nil
        let userCancelled = cancelRequested.remove(id) != nil
        defer { wakeupContinuation.yield() }
        switch outcome {
        case .completed(let output):
            jobs[id]?.source = output.source
            jobs[id]?.result = output.result
            _ = await end(id, status: .completed, step: .completed, message: "Ready to download", error: nil)
        case .failed(let error):
            logger.warning("job failed", metadata: ["job.id": "\(id)", "error.code": "\(error.code)"])
            _ = await end(id, status: .failed, step: .failed, message: error.message, error: error)
        case .cancelled where userCancelled:
            _ = await end(id, status: .cancelled, step: .cancelled, message: "Cancelled", error: nil)
        case .cancelled:
            await requeueAfterShutdown(id)
        }
    }

    /// The stream that wakes the runner when a job may start.
    public nonisolated var wakeupSignals: AsyncStream<Void> { wakeups }

    // MARK: Internals shared by the extensions

    /// Moves a job into a terminal state, publishes its terminal event and waits for it to be stored.
    func end(_ id: JobID, status: JobStatus, step: JobStep, message: String, error: SpoolError?) async -> Job {
        guard var job = jobs[id] else { preconditionFailure("ending an unknown job") }
        job.status = status
        job.step = step
        job.message = message
        job.error = error
        job.queuePosition = nil
        job.finishedAt = Date()
        if status == .completed { job.progress = 100 }
        jobs[id] = job
        let kind: JobEvent.Kind = status == .completed ? .completed : status == .failed ? .failed : .cancelled
        publish(job, kind: kind)
        let stored = jobs[id] ?? job
        dropSubscribers(of: id)
        rememberFinished(id)
        endedTotals[status, default: 0] += 1
        await persistNow(stored)
        logger.info("job ended", metadata: ["job.id": "\(id)", "job.status": "\(status.rawValue)"])
        return stored
    }

    /// Writes a state that must not be lost (a terminal one, a re-queue) and waits for it. If the
    /// write fails or this task is being cancelled (a shutdown), the state goes to the background
    /// writer, which is shut down after the job runner and flushes on its way out.
    func persistNow(_ job: Job) async {
        writer.discard(job.id)
        do {
            try await store.save([job])
        } catch {
            if !(error is CancellationError) {
                logger.error("saving a job failed; will retry", metadata: ["job.id": "\(job.id)", "error": "\(error)"])
            }
            writer.enqueue(job)
        }
    }

    /// Gives the job its next `seq`, encodes the event once, records and delivers it.
    func publish(_ job: Job, kind: JobEvent.Kind, live: LiveProgress? = nil) {
        var job = job
        if kind != .started { job.seq += 1 }
        jobs[job.id] = job
        let event = makeEvent(job, kind: kind, live: live)
        histories[job.id]?.append(event)
        for subscriber in (subscribers[job.id] ?? [:]).values { subscriber.deliver(event) }
    }

    func makeEvent(_ job: Job, kind: JobEvent.Kind, live: LiveProgress? = nil) -> JobEvent {
        let payload = EventPayload(job: job, kind: kind, live: live, at: Date())
        return JobEvent(jobId: job.id, seq: job.seq, kind: kind, frame: encoder.frame(type: kind.rawValue, payload: payload))
    }

    func lookup(_ id: JobID) async throws(SpoolError) -> Job? {
        if let job = jobs[id] { return job }
        do {
            return try await store.job(id)
        } catch {
            logger.error("reading a job failed", metadata: ["job.id": "\(id)", "error": "\(error)"])
            throw .storageFailed("The server could not read the job; try again.")
        }
    }

    /// Keeps the newest finished jobs in memory; older ones live on in the store only.
    private func rememberFinished(_ id: JobID) {
        finishedOrder.append(id)
        while finishedOrder.count > settings.finishedCacheSize {
            let evicted = finishedOrder.removeFirst()
            jobs[evicted] = nil
            histories[evicted] = nil
        }
    }
}
