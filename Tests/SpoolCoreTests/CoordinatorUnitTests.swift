import Foundation
import Logging
import Synchronization
import Testing
@testable import SpoolCore

/// Records every frame it is given, events and replies alike, in arrival order.
final class RecordingSubscriber: EventSubscriber {
    private let frames = Mutex<[String]>([])

    func deliver(_ event: JobEvent) {
        frames.withLock { $0.append(event.frame) }
    }

    func deliver(reply frame: String) {
        frames.withLock { $0.append(frame) }
    }

    var all: [String] { frames.withLock { $0 } }
    var decoded: [DecodedFrame] { all.map(DecodedFrame.init) }
}

/// The parts of a frame these tests look at.
struct DecodedFrame: CustomStringConvertible {
    let type: String
    let id: String?
    let seq: Int?
    let status: String?
    let step: String?
    let queuePosition: Int?
    let progress: Double?
    let errorCode: String?
    let resync: Bool?
    let text: String

    init(_ text: String) {
        self.text = text
        let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        let payload = object["payload"] as? [String: Any] ?? [:]
        type = object["type"] as? String ?? "?"
        id = object["id"] as? String
        seq = payload["seq"] as? Int
        status = payload["status"] as? String
        step = payload["currentStep"] as? String
        queuePosition = payload["queuePosition"] as? Int
        progress = payload["progress"] as? Double
        errorCode = (payload["error"] as? [String: Any])?["code"] as? String
        resync = payload["resync"] as? Bool
    }

    var description: String { text }
}

@Suite struct CoordinatorUnitTests {
    private static let options = ConversionOptions(url: "https://example.com/a.mp3", format: .mp3, quality: .audioBitrate(kbps: 192))

    private func makeCoordinator(
        maxConcurrentJobs: Int = 1, historyCapacity: Int = 128, finishedCacheSize: Int = 256, store: InMemoryJobStore = InMemoryJobStore()
    ) -> JobCoordinator {
        let logger = Logger(label: "spool.tests.coordinator")
        let writer = JobStateWriter(store: store, logger: logger)
        return JobCoordinator(
            settings: .init(maxConcurrentJobs: maxConcurrentJobs, historyCapacity: historyCapacity, finishedCacheSize: finishedCacheSize),
            store: store, writer: writer, logger: logger
        )
    }

    /// Submits three jobs, each with its own recording subscriber.
    private func submitThree(to coordinator: JobCoordinator) async throws -> [(job: Job, subscriber: RecordingSubscriber)] {
        var submitted: [(job: Job, subscriber: RecordingSubscriber)] = []
        for index in 1...3 {
            let subscriber = RecordingSubscriber()
            let job = try await coordinator.submit(Self.options, subscriber: subscriber, replyID: "req-\(index)")
            submitted.append((job, subscriber))
        }
        return submitted
    }

    @Test func submitAnnouncesStartedWithQueuePositions() async throws {
        let store = InMemoryJobStore()
        let coordinator = makeCoordinator(store: store)
        let submitted = try await submitThree(to: coordinator)

        for (index, entry) in submitted.enumerated() {
            let frames = entry.subscriber.decoded
            try #require(frames.count == 1, "\(frames)")
            #expect(frames[0].type == "conversion_started")
            #expect(frames[0].id == "req-\(index + 1)")
            #expect(frames[0].seq == 1)
            #expect(frames[0].status == "queued")
            #expect(frames[0].queuePosition == index + 1)
            #expect(entry.job.queuePosition == index + 1)
            #expect(entry.job.seq == 1)
            // Stored before anyone hears of it.
            let stored = try await store.job(entry.job.id)
            #expect(stored?.status == .queued)
        }
        #expect(Set(submitted.map(\.job.id)).count == 3)
        let counts = await coordinator.counts
        #expect(counts.queued == 3 && counts.running == 0 && counts.subscriptions == 3)
    }

    @Test func nextJobStartsTheFirstAndMovesTheQueue() async throws {
        let coordinator = makeCoordinator(maxConcurrentJobs: 1)
        let submitted = try await submitThree(to: coordinator)

        let ticket = try #require(await coordinator.nextJob())
        #expect(ticket.id == submitted[0].job.id)
        #expect(ticket.options == Self.options)
        #expect(await coordinator.nextJob() == nil, "only one job may run at a time")

        let first = submitted[0].subscriber.decoded
        #expect(first.map(\.type) == ["conversion_started", "progress_update"])
        #expect(first.last?.seq == 2)
        #expect(first.last?.status == "running")
        #expect(first.last?.step == "metadata")
        #expect(first.last?.queuePosition == nil)

        for (index, entry) in submitted.dropFirst().enumerated() {
            let frames = entry.subscriber.decoded
            #expect(frames.map(\.type) == ["conversion_started", "progress_update"])
            #expect(frames.last?.seq == 2)
            #expect(frames.last?.status == "queued")
            #expect(frames.last?.queuePosition == index + 1)
        }

        let running = try #require(await coordinator.job(ticket.id))
        #expect(running.status == .running && running.attempts == 1 && running.startedAt != nil)
        let counts = await coordinator.counts
        #expect(counts.queued == 2 && counts.running == 1)
    }

    /// A burst of jobs starts together, and those left waiting hear their new place once, not once
    /// per job started ahead of them.
    @Test func nextJobsStartsAllThatFitAndAnnouncesPlacesOnce() async throws {
        let coordinator = makeCoordinator(maxConcurrentJobs: 2)
        var submitted: [(job: Job, subscriber: RecordingSubscriber)] = []
        for index in 1...5 {
            let subscriber = RecordingSubscriber()
            submitted.append((try await coordinator.submit(Self.options, subscriber: subscriber, replyID: "req-\(index)"), subscriber))
        }

        let tickets = await coordinator.nextJobs()
        #expect(tickets.map(\.id) == submitted.prefix(2).map(\.job.id))
        #expect(await coordinator.nextJobs().isEmpty, "both slots are taken")

        for entry in submitted.prefix(2) {
            #expect(entry.subscriber.decoded.map(\.status) == ["queued", "running"])
        }
        for (index, entry) in submitted.dropFirst(2).enumerated() {
            let frames = entry.subscriber.decoded
            #expect(frames.map(\.type) == ["conversion_started", "progress_update"], "one announcement each: \(frames)")
            #expect(frames.map(\.queuePosition) == [index + 3, index + 1])
        }
        let counts = await coordinator.counts
        #expect(counts.queued == 3 && counts.running == 2)
    }

    @Test func cancellingAQueuedJobRenumbersTheRest() async throws {
        let store = InMemoryJobStore()
        let coordinator = makeCoordinator(maxConcurrentJobs: 1, store: store)
        let submitted = try await submitThree(to: coordinator)
        _ = try #require(await coordinator.nextJob())

        let cancelled = try await coordinator.cancel(submitted[1].job.id)
        #expect(cancelled.status == .cancelled)
        #expect(cancelled.queuePosition == nil)

        let second = submitted[1].subscriber.decoded
        #expect(second.map(\.type) == ["conversion_started", "progress_update", "conversion_cancelled"])
        #expect(second.last?.seq == 3)
        #expect(second.last?.status == "cancelled")

        let third = submitted[2].subscriber.decoded
        #expect(third.map(\.type) == ["conversion_started", "progress_update", "progress_update"])
        #expect(third.map(\.seq) == [1, 2, 3])
        #expect(third.map(\.queuePosition) == [3, 2, 1])

        #expect(try await store.job(submitted[1].job.id)?.status == .cancelled)
        let counts = await coordinator.counts
        #expect(counts.queued == 1)
        #expect(counts.subscriptions == 2, "the cancelled job's subscriber is released")
        #expect(await coordinator.endedTotals[.cancelled] == 1)

        // A finished job cannot be cancelled again.
        let again = await #expect(throws: SpoolError.self) { _ = try await coordinator.cancel(submitted[1].job.id) }
        #expect(again?.code == "JOB_ALREADY_FINISHED")
    }

    @Test func subscribeAfterReplaysExactlyTheMissedEvents() async throws {
        let coordinator = makeCoordinator(maxConcurrentJobs: 1)
        let submitted = try await submitThree(to: coordinator)
        _ = try #require(await coordinator.nextJob())
        _ = try await coordinator.cancel(submitted[1].job.id)

        let late = RecordingSubscriber()
        let result = try await coordinator.subscribe(late, to: submitted[2].job.id, after: 1, replyID: "sub-1")
        #expect(result.isLive)
        #expect(result.replayed == 2)
        #expect(!result.resync)

        let frames = late.decoded
        #expect(frames.map(\.type) == ["job_state", "progress_update", "progress_update"])
        #expect(frames[0].id == "sub-1")
        #expect(frames[0].seq == 3)
        #expect(frames[0].resync == nil)
        #expect(frames.dropFirst().map(\.seq) == [2, 3])
        // The replayed frames are the very frames live subscribers got.
        #expect(Array(late.all.dropFirst()) == Array(submitted[2].subscriber.all.suffix(2)))

        // Nothing is replayed to a client that is up to date, and live events follow.
        let current = RecordingSubscriber()
        let upToDate = try await coordinator.subscribe(current, to: submitted[2].job.id, after: 3, replyID: nil)
        #expect(upToDate.replayed == 0)
        #expect(current.decoded.map(\.type) == ["job_state"])
        _ = try await coordinator.cancel(submitted[2].job.id)
        #expect(current.decoded.map(\.type) == ["job_state", "conversion_cancelled"])
        #expect(late.decoded.last?.type == "conversion_cancelled")
    }

    @Test func subscribeBeyondTheHistoryResyncs() async throws {
        let coordinator = makeCoordinator(maxConcurrentJobs: 1, historyCapacity: 2)
        let submitted = try await submitThree(to: coordinator)
        _ = try #require(await coordinator.nextJob())
        _ = try await coordinator.cancel(submitted[1].job.id)
        // Job 3 now has seq 3 (started, moved to 2, moved to 1) and keeps only events 2 and 3.
        let late = RecordingSubscriber()
        let result = try await coordinator.subscribe(late, to: submitted[2].job.id, after: 0, replyID: nil)
        #expect(result.resync)
        #expect(result.replayed == 0)
        #expect(late.decoded.map(\.type) == ["job_state"])
        #expect(late.decoded.first?.resync == true)
        #expect(late.decoded.first?.seq == submitted[2].subscriber.decoded.last?.seq)
    }

    @Test func subscribingToAnUnknownJobFails() async throws {
        let coordinator = makeCoordinator()
        let subscriber = RecordingSubscriber()
        let error = await #expect(throws: SpoolError.self) {
            _ = try await coordinator.subscribe(subscriber, to: JobID.make(), after: nil, replyID: "x")
        }
        #expect(error?.code == "JOB_NOT_FOUND")
        #expect(subscriber.all.isEmpty)
        #expect(await coordinator.subscriptionCount == 0)
        let cancel = await #expect(throws: SpoolError.self) { _ = try await coordinator.cancel(JobID.make()) }
        #expect(cancel?.code == "JOB_NOT_FOUND")
        #expect(try await coordinator.job(JobID.make()) == nil)
    }

    @Test func reportNeverLowersProgress() async throws {
        let coordinator = makeCoordinator()
        let subscriber = RecordingSubscriber()
        let job = try await coordinator.submit(Self.options, subscriber: subscriber)

        // Not running yet: reports are ignored.
        await coordinator.report(job.id, ProgressUpdate(step: .download, progress: 50, message: "early"))
        #expect(try await coordinator.job(job.id)?.progress == 0)
        #expect(subscriber.all.count == 1)

        _ = try #require(await coordinator.nextJob())
        await coordinator.report(job.id, ProgressUpdate(step: .download, progress: 40, message: "forty"))
        await coordinator.report(job.id, ProgressUpdate(step: .download, progress: 20, message: "twenty"))
        #expect(try await coordinator.job(job.id)?.progress == 40)
        await coordinator.report(job.id, ProgressUpdate(step: .transcode, progress: 250, message: "over"))
        let current = try #require(await coordinator.job(job.id))
        #expect(current.progress == 99.9, "only completion reaches 100")
        #expect(current.step == .transcode)
        #expect(current.message == "over")

        let progress = subscriber.decoded.filter { $0.type == "progress_update" }.compactMap(\.progress)
        #expect(progress == [0, 40, 40, 99.9])
        let seqs = subscriber.decoded.compactMap(\.seq)
        #expect(seqs == Array(1...seqs.count))
    }

    @Test func failingDropsSubscribers() async throws {
        let store = InMemoryJobStore()
        let coordinator = makeCoordinator(store: store)
        let subscriber = RecordingSubscriber()
        let job = try await coordinator.submit(Self.options, subscriber: subscriber)
        let second = RecordingSubscriber()
        _ = try await coordinator.subscribe(second, to: job.id, after: 1, replyID: nil)
        #expect(await coordinator.subscriptionCount == 2)
        _ = try #require(await coordinator.nextJob())

        await coordinator.finish(job.id, outcome: .failed(.downloadFailed("x")))

        let frames = subscriber.decoded
        let last = try #require(frames.last)
        #expect(last.type == "conversion_failed")
        #expect(last.errorCode == "DOWNLOAD_FAILED")
        #expect(last.status == "failed")
        #expect(last.seq == 3)
        #expect(second.decoded.last?.type == "conversion_failed")
        #expect(await coordinator.subscriptionCount == 0)

        let stored = try #require(try await store.job(job.id))
        #expect(stored.status == .failed)
        #expect(stored.error?.code == "DOWNLOAD_FAILED")
        #expect(stored.finishedAt != nil)
        #expect(await coordinator.endedTotals[.failed] == 1)

        // Later events would have nowhere to go: reports after the end are ignored.
        await coordinator.report(job.id, ProgressUpdate(step: .download, progress: 60, message: "late"))
        #expect(subscriber.all.count == frames.count)
        #expect(try await coordinator.job(job.id)?.status == .failed)
    }

    @Test func lateSubscriberToAFinishedJobGetsStateThenTheTerminalEvent() async throws {
        let coordinator = makeCoordinator()
        let job = try await coordinator.submit(Self.options)
        _ = try #require(await coordinator.nextJob())
        await coordinator.finish(job.id, outcome: .failed(.notMedia("no media")))

        let late = RecordingSubscriber()
        let result = try await coordinator.subscribe(late, to: job.id, after: 0, replyID: "s")
        #expect(!result.isLive)
        let frames = late.decoded
        #expect(frames.first?.type == "job_state")
        #expect(frames.first?.status == "failed")
        #expect(frames.first?.errorCode == "NOT_MEDIA")
        // With the history still at hand, "after 0" replays the whole life, ending with the terminal event.
        #expect(frames.dropFirst().map(\.type) == ["conversion_started", "progress_update", "conversion_failed"])
        #expect(frames.dropFirst().map(\.seq) == [1, 2, 3])
        #expect(await coordinator.subscriptionCount == 0, "a finished job takes no subscribers")

        // Without `after` only the terminal event follows the snapshot.
        let plain = RecordingSubscriber()
        _ = try await coordinator.subscribe(plain, to: job.id, after: nil, replyID: nil)
        #expect(plain.decoded.map(\.type) == ["job_state", "conversion_failed"])
        #expect(plain.decoded.last?.errorCode == "NOT_MEDIA")

        // Up to date: just the snapshot.
        let current = RecordingSubscriber()
        _ = try await coordinator.subscribe(current, to: job.id, after: 3, replyID: nil)
        #expect(current.decoded.map(\.type) == ["job_state"])
    }

    @Test func finishedJobsEvictedFromMemoryAreReadBackFromTheStore() async throws {
        let store = InMemoryJobStore()
        let coordinator = makeCoordinator(finishedCacheSize: 0, store: store)
        let job = try await coordinator.submit(Self.options)
        _ = try await coordinator.cancel(job.id)

        let late = RecordingSubscriber()
        let result = try await coordinator.subscribe(late, to: job.id, after: 0, replyID: nil)
        #expect(!result.isLive)
        #expect(late.decoded.map(\.type) == ["job_state", "conversion_cancelled"])
        #expect(late.decoded.map(\.seq) == [2, 2])
        #expect(late.decoded.first?.resync == true)
        #expect(late.decoded.last?.status == "cancelled")
    }

    @Test func completingPublishesTheDownload() async throws {
        let coordinator = makeCoordinator()
        let subscriber = RecordingSubscriber()
        let job = try await coordinator.submit(Self.options, subscriber: subscriber)
        _ = try #require(await coordinator.nextJob())
        let output = ConversionPipeline.Output(
            source: SourceSummary(title: "Song", durationSeconds: 8, thumbnailUrl: nil, extractor: "generic"),
            result: JobResult(filename: "Song.mp3", sizeBytes: 1234, durationSeconds: 8, mimeType: "audio/mpeg", videoCodec: nil, audioCodec: "mp3", height: nil, bitRate: 192_000, remuxed: false)
        )
        await coordinator.finish(job.id, outcome: .completed(output))
        let last = try #require(subscriber.decoded.last)
        #expect(last.type == "conversion_completed")
        #expect(last.progress == 100)
        #expect(last.text.contains(#""downloadUrl":"/files/\#(job.id.rawValue)/Song.mp3""#))
        #expect(await coordinator.subscriptionCount == 0)
    }

    @Test func userCancelOfARunningJobEndsItCancelled() async throws {
        let coordinator = makeCoordinator()
        let subscriber = RecordingSubscriber()
        let job = try await coordinator.submit(Self.options, subscriber: subscriber)
        let ticket = try #require(await coordinator.nextJob())
        let stillRunning = try await coordinator.cancel(job.id)
        #expect(stillRunning.status == .running, "the pipeline ends a running job")
        // The cancel signal has finished.
        for await _ in ticket.cancelSignal {}
        await coordinator.finish(job.id, outcome: .cancelled)
        #expect(subscriber.decoded.last?.type == "conversion_cancelled")
        #expect(try await coordinator.job(job.id)?.status == .cancelled)
    }

    @Test func aShutdownCancelQueuesTheJobForTheNextStart() async throws {
        let store = InMemoryJobStore()
        let coordinator = makeCoordinator(store: store)
        let subscriber = RecordingSubscriber()
        let job = try await coordinator.submit(Self.options, subscriber: subscriber)
        _ = try #require(await coordinator.nextJob())
        // Cancelled, but nobody asked for it: the runner is shutting down.
        await coordinator.finish(job.id, outcome: .cancelled)

        let last = try #require(subscriber.decoded.last)
        #expect(last.type == "progress_update")
        #expect(last.status == "queued")
        #expect(await coordinator.subscriptionCount == 1, "the job is not over, so its subscribers stay")
        let stored = try #require(try await store.job(job.id))
        #expect(stored.status == .queued)
        #expect(stored.attempts == 1)

        // The next process picks it up and runs it again.
        let next = makeCoordinator(store: store)
        #expect(try await next.recover().requeued == 1)
        let ticket = try #require(await next.nextJob())
        #expect(ticket.id == job.id)
        #expect(try await next.job(job.id)?.attempts == 2)
    }

    @Test func recoverRequeuesLeftoversInOrderAndFailsPoisonousOnes() async throws {
        let store = InMemoryJobStore()
        let base = Date(timeIntervalSinceReferenceDate: 700_000_000)
        var queued = Job(id: JobID.make(), options: Self.options, createdAt: base.addingTimeInterval(20))
        queued.seq = 1
        var interrupted = Job(id: JobID.make(), options: Self.options, createdAt: base.addingTimeInterval(10))
        interrupted.status = .running
        interrupted.attempts = 1
        interrupted.seq = 4
        var poisonous = Job(id: JobID.make(), options: Self.options, createdAt: base)
        poisonous.status = .running
        poisonous.attempts = 3
        poisonous.seq = 7
        var done = Job(id: JobID.make(), options: Self.options, createdAt: base)
        done.status = .completed
        try await store.save([queued, interrupted, poisonous, done])

        let coordinator = makeCoordinator(store: store)
        let recovered = try await coordinator.recover()
        #expect(recovered.requeued == 2)
        #expect(recovered.failed == 1)

        let failed = try #require(try await store.job(poisonous.id))
        #expect(failed.status == .failed && failed.error?.code == "INTERRUPTED" && failed.error?.retryable == true)

        let first = try #require(await coordinator.nextJob())
        #expect(first.id == interrupted.id, "oldest first")
        let restarted = try #require(await coordinator.job(interrupted.id))
        #expect(restarted.attempts == 2)
        #expect(restarted.message == "Starting again after a server restart")
        #expect(try await coordinator.job(queued.id)?.queuePosition == 1)
    }
}
