import Logging
import ServiceLifecycle

/// Runs queued jobs on a bounded number of workers, as child tasks of one task group.
///
/// The coordinator decides *which* job runs (FIFO, within the concurrency limit); this service
/// only runs them. On a graceful shutdown it stops taking jobs and cancels the running ones; the
/// coordinator sees a cancel nobody asked for and queues those jobs again for the next start.
public struct JobRunnerService: Service {
    let coordinator: JobCoordinator
    let pipeline: ConversionPipeline
    let objectStore: LocalObjectStore
    let logger: Logger

    public init(coordinator: JobCoordinator, pipeline: ConversionPipeline, objectStore: LocalObjectStore, logger: Logger) {
        self.coordinator = coordinator
        self.pipeline = pipeline
        self.objectStore = objectStore
        self.logger = logger
    }

    /// Ends the tools an earlier process left running and sweeps its scratch folders. Called by the
    /// assembly before the server listens, so no client ever meets an old run's tool: no job can
    /// be running yet, so every recorded tool and every scratch folder is a leftover. The tools are
    /// ended first, so nothing writes into a folder being swept.
    public func endLeftoversOfEarlierRun() {
        let ended = objectStore.processRecords.endLeftovers(scratchFolder: objectStore.scratchFolder, logger: logger)
        let swept = objectStore.sweepWorkspaces()
        if ended > 0 || swept > 0 {
            logger.notice("cleaned up after an earlier run", metadata: ["tools.ended": "\(ended)", "scratch.swept": "\(swept)"])
        }
    }

    public func run() async throws {
        let recovered = try await coordinator.recover()
        if recovered.requeued > 0 || recovered.failed > 0 {
            logger.notice(
                "recovered from an earlier run", metadata: ["jobs.requeued": "\(recovered.requeued)", "jobs.failed": "\(recovered.failed)"]
            )
        }
        await withDiscardingTaskGroup { group in
            for await _ in coordinator.wakeupSignals.cancelOnGracefulShutdown() {
                for ticket in await coordinator.nextJobs() {
                    group.addTask { await run(ticket) }
                }
            }
            group.cancelAll()
        }
    }

    /// Runs one job until it ends or the user cancels it, then reports how it ended.
    private func run(_ ticket: JobTicket) async {
        let sink = CoordinatorProgressSink(coordinator: coordinator, id: ticket.id)
        let outcome = await withTaskGroup(of: JobCoordinator.RunOutcome?.self) { group in
            group.addTask {
                do {
                    return .completed(try await pipeline.run(id: ticket.id, options: ticket.options, sink: sink))
                } catch is CancellationError {
                    return .cancelled
                } catch let error as SpoolError {
                    return .failed(error)
                } catch {
                    logger.error("pipeline error", metadata: ["job.id": "\(ticket.id)", "error": "\(error)"])
                    return .failed(.internalError("The conversion failed unexpectedly."))
                }
            }
            group.addTask {
                // Ends when the user cancels (the coordinator finishes the stream) or the group is cancelled.
                for await _ in ticket.cancelSignal {}
                return nil
            }
            var result: JobCoordinator.RunOutcome?
            while let next = await group.next() {
                if let next {
                    result = next
                    group.cancelAll()
                } else if result == nil {
                    group.cancelAll()
                }
            }
            return result ?? .cancelled
        }
        await coordinator.finish(ticket.id, outcome: outcome)
    }
}

/// Forwards a pipeline's progress to the coordinator for one job.
///
/// Both ways go through ``JobCoordinator/post(_:_:then:)``, so a phase change the pipeline awaits
/// queues behind the reports its tool's output posted before it, never ahead of them.
struct CoordinatorProgressSink: ProgressSink {
    let coordinator: JobCoordinator
    let id: JobID

    func report(_ update: ProgressUpdate) async {
        await withCheckedContinuation { (applied: CheckedContinuation<Void, Never>) in
            coordinator.post(id, update) { applied.resume() }
        }
    }

    func post(_ update: ProgressUpdate) {
        coordinator.post(id, update)
    }
}
