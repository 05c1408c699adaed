import Foundation
import Logging
import Testing
@testable import SpoolCore

/// An actor on a given ``ProgressExecutor``, to queue ordinary jobs on it in a known order.
private actor OrderProbe {
    nonisolated let executor: ProgressExecutor
    private(set) var order: [String] = []

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    init(executor: ProgressExecutor) {
        self.executor = executor
    }

    func note(_ name: String) {
        order.append(name)
    }

    /// From the executor's own thread, queues `ordinary` jobs (tasks isolated to this actor start
    /// on its executor as they are created) and then `urgent` closures, and returns the tasks. The
    /// thread is busy with this call meanwhile, so all of them wait and the executor picks the order.
    func queue(ordinary: Int, urgent: Int) -> [Task<Void, Never>] {
        let tasks = (0..<ordinary).map { index in Task { self.note("o\(index)") } }
        for index in 0..<urgent {
            executor.runUrgently { self.assumeIsolated { $0.note("u\(index)") } }
        }
        return tasks
    }
}

@Suite struct ProgressExecutorUnitTests {
    /// The order in which `ordinary` jobs and then `urgent` closures, all queued at once, ran.
    private func runOrder(ordinary: Int, urgent: Int) async -> [String] {
        let probe = OrderProbe(executor: ProgressExecutor(name: "spool-test"))
        let tasks = await probe.queue(ordinary: ordinary, urgent: urgent)
        for task in tasks { await task.value }
        // The urgent closures queued before the ordinary tasks ended have run by now, bar the ones
        // after the last ordinary job; one more trip through the queue lets those finish too.
        await probe.note("end")
        return await probe.order.filter { $0 != "end" }
    }

    @Test func urgentWorkRunsBeforeOrdinaryJobsQueuedEarlier() async {
        #expect(await runOrder(ordinary: 2, urgent: 2) == ["u0", "u1", "o0", "o1"])
    }

    @Test func anOrdinaryJobGetsATurnAfterEveryFairnessIntervalOfUrgentWork() async {
        let interval = ProgressExecutor.fairnessInterval
        let ran = await runOrder(ordinary: 2, urgent: interval + 2)
        let expected = (0..<interval).map { "u\($0)" } + ["o0", "u\(interval)", "u\(interval + 1)", "o1"]
        #expect(ran == expected)
    }

    @Test func theCoordinatorRunsOnTheSharedProgressThread() async {
        let store = InMemoryJobStore()
        let coordinator = JobCoordinator(
            settings: .init(), store: store, writer: JobStateWriter(store: store, logger: Logger(label: "test")), logger: Logger(label: "test")
        )
        #expect(await coordinator.runsOnProgressThread())
        #expect(ProgressExecutor.shared.isIsolatingCurrentContext() == false)
    }

    /// Posted reports and an awaited one made after them apply in the order they were made, even
    /// when the awaited one comes from another task and the posts from another thread.
    @Test func reportsOfAJobApplyInTheOrderTheyWereMade() async throws {
        let store = InMemoryJobStore()
        let coordinator = JobCoordinator(
            settings: .init(maxConcurrentJobs: 1), store: store, writer: JobStateWriter(store: store, logger: Logger(label: "test")),
            logger: Logger(label: "test")
        )
        let options = ConversionOptions(url: "https://example.com/a.mp3", format: .mp3, quality: .audioBitrate(kbps: 192))
        let subscriber = RecordingSubscriber()
        let job = try await coordinator.submit(options, subscriber: subscriber)
        _ = try #require(await coordinator.nextJob())
        let before = progressSteps(subscriber).count
        let sink = CoordinatorProgressSink(coordinator: coordinator, id: job.id)
        await withCheckedContinuation { (posted: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                for percent in 1...200 { sink.post(ProgressUpdate(step: .download, progress: Double(percent) / 4, message: "d\(percent)")) }
                posted.resume()
            }
        }
        await sink.report(ProgressUpdate(step: .transcode, progress: 50, message: "Converting"))
        let steps = progressSteps(subscriber).dropFirst(before)
        #expect(steps.count == 201)
        #expect(steps.last == "transcode")
        #expect(steps.dropLast().allSatisfy { $0 == "download" })
    }
}

/// The `currentStep` of every progress frame `subscriber` received, in order.
private func progressSteps(_ subscriber: RecordingSubscriber) -> [String] {
    subscriber.decoded.filter { $0.type == "progress_update" }.compactMap(\.step)
}

extension JobCoordinator {
    fileprivate func runsOnProgressThread() -> Bool {
        ProgressExecutor.shared.isIsolatingCurrentContext() == true
    }
}
