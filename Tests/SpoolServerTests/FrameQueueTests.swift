import Foundation
import SpoolCore
import Synchronization
import Testing

@testable import SpoolServer

/// The per-connection outbox: order, coalescing only when behind, terminals never dropped, bounds.
@Suite struct FrameQueueTests {
    func event(_ job: JobID, _ seq: Int, _ kind: JobEvent.Kind = .progress) -> JobEvent {
        JobEvent(jobId: job, seq: seq, kind: kind, frame: #"{"seq":\#(seq)}"#)
    }

    func seqs(of items: [FrameQueue.Item]) -> [Int] {
        items.compactMap { item in
            if case .event(let event) = item { return event.seq }
            return nil
        }
    }

    func drain(_ queue: FrameQueue) async -> [FrameQueue.Item] {
        queue.finish()
        var items: [FrameQueue.Item] = []
        while let item = await queue.next() { items.append(item) }
        return items
    }

    @Test func keepsOrderAndEverythingWhileTheClientKeepsUp() async {
        let queue = FrameQueue(capacity: 100, coalesceAbove: 32)
        let job = JobID.make()
        queue.deliver(reply: "hello")
        for seq in 1...20 { queue.deliver(event(job, seq)) }
        let items = await drain(queue)
        #expect(items.count == 21)
        #expect(seqs(of: items) == Array(1...20))
        #expect(queue.coalescedCount == 0)
    }

    @Test func aStalledClientHoldsOneProgressFramePerJobNotOnePerTick() async {
        let queue = FrameQueue(capacity: 1000, coalesceAbove: 4)
        let jobs = (0..<3).map { _ in JobID.make() }
        for seq in 1...10_000 {
            for job in jobs { queue.deliver(event(job, seq)) }
        }
        for job in jobs { queue.deliver(event(job, 10_001, .completed)) }
        #expect(queue.pendingCount <= 4 + jobs.count * 2)
        #expect(!queue.isStuck(longerThan: .seconds(60)))
        let items = await drain(queue)
        // Each job: its progress frames in order, ending with the newest, then its terminal event.
        for job in jobs {
            let own = items.compactMap { item -> JobEvent? in
                if case .event(let event) = item, event.jobId == job { return event }
                return nil
            }
            #expect(own.last?.kind == .completed)
            #expect(own.dropLast().last?.seq == 10_000, "the newest progress wins")
            let numbers = own.map(\.seq)
            #expect(zip(numbers, numbers.dropFirst()).allSatisfy { $0 < $1 })
        }
    }

    @Test func terminalEventsAndRepliesAreNeverReplaced() async {
        let queue = FrameQueue(capacity: 10_000, coalesceAbove: 1)
        let job = JobID.make()
        for seq in 1...50 {
            queue.deliver(event(job, seq, seq % 10 == 0 ? .completed : .progress))
            queue.deliver(reply: "r\(seq)")
        }
        let items = await drain(queue)
        let replies = items.compactMap { item -> String? in
            if case .reply(let text) = item { return text }
            return nil
        }
        #expect(replies.count == 50)
        let terminals = items.compactMap { item -> Int? in
            if case .event(let event) = item, event.isTerminal { return event.seq }
            return nil
        }
        #expect(terminals == [10, 20, 30, 40, 50])
    }

    @Test func overCapacityMeansStuck() {
        let queue = FrameQueue(capacity: 10, coalesceAbove: 100)
        for index in 0..<11 { queue.deliver(reply: "\(index)") }
        #expect(queue.isStuck(longerThan: .seconds(3600)))
    }

    @Test func oldUnsentFramesMeanStuck() async throws {
        let queue = FrameQueue()
        queue.deliver(reply: "waiting")
        try await Task.sleep(for: .milliseconds(50))
        #expect(queue.isStuck(longerThan: .milliseconds(10)))
        _ = await queue.next()
        #expect(!queue.isStuck(longerThan: .milliseconds(10)))
    }

    /// The attached writer is started once per turn: by the first frame, not by frames that arrive
    /// while it runs; its turn ends when it finds nothing; after `close()` nothing starts it.
    @Test func anAttachedWriterIsWokenOncePerTurnAndNotAfterClose() {
        let wakes = Mutex(0)
        let queue = FrameQueue()
        queue.attach(stallLimit: .seconds(60), wake: { wakes.withLock { $0 += 1 } }, onStall: {})
        queue.deliver(reply: "wake")
        queue.deliver(reply: "while running")
        #expect(wakes.withLock { $0 } == 1)
        #expect(queue.popBatchForWriter(limit: 64).map(\.text) == ["wake", "while running"])
        #expect(queue.popBatchForWriter(limit: 64).isEmpty, "an empty batch ends the turn")
        queue.deliver(reply: "again")
        #expect(wakes.withLock { $0 } == 2)
        #expect(queue.popBatchForWriter(limit: 64).map(\.text) == ["again"])
        _ = queue.popBatchForWriter(limit: 64)
        queue.close()
        queue.deliver(reply: "too late")
        #expect(wakes.withLock { $0 } == 2)
        #expect(queue.pendingCount == 0)
    }

    /// Attached, the same stuck rule is applied as frames arrive, and reported once.
    @Test func anAttachedQueueReportsAStallOnce() {
        let stalls = Mutex(0)
        let queue = FrameQueue(capacity: 10, coalesceAbove: 100)
        queue.attach(stallLimit: .seconds(3600), wake: {}, onStall: { stalls.withLock { $0 += 1 } })
        for index in 0..<10 { queue.deliver(reply: "\(index)") }
        #expect(stalls.withLock { $0 } == 0)
        for index in 10..<20 { queue.deliver(reply: "\(index)") }
        #expect(stalls.withLock { $0 } == 1)
    }

    @Test func aWaitingWriterIsWokenAndCancellationEndsIt() async {
        let queue = FrameQueue()
        async let first = queue.next()
        try? await Task.sleep(for: .milliseconds(20))
        queue.deliver(reply: "wake")
        let item = await first
        #expect(item?.text == "wake")
        let task = Task { await queue.next() }
        task.cancel()
        #expect(await task.value == nil)
    }
}
