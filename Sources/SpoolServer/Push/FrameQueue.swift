import SpoolCore
import Synchronization

/// One connection's outgoing frames, in order, with a bound: job events and direct replies alike.
///
/// It is the connection's ``EventSubscriber``: the coordinator drops frames in without ever
/// waiting, so one slow client cannot delay anyone else. A client that falls behind does not make
/// the queue grow with every progress tick: once more than `coalesceAbove` frames wait, an unsent
/// `progress_update` of a job is replaced by the newer one (latest wins; the client sees a higher
/// `seq`, and progress is state, so nothing of value is lost). A client that keeps up never has
/// anything replaced, so its stream stays gap-free. Terminal events and replies are never dropped or replaced. Should the queue
/// still pass `capacity`, or its oldest frame wait longer than the connection's stall limit, the
/// connection reports itself stuck and is closed; the client resumes with `subscribe_job {after}`.
final class FrameQueue: EventSubscriber {
    /// What the writer gets.
    enum Item: Sendable {
        case event(JobEvent)
        case reply(String)

        var text: String {
            switch self {
            case .event(let event): event.frame
            case .reply(let frame): frame
            }
        }
    }

    private struct Entry {
        var item: Item
        let enqueuedAt: ContinuousClock.Instant
    }

    private struct State {
        var entries: [Entry] = []
        /// Index in `entries` of the first unsent entry (entries before it are compacted away lazily).
        var head = 0
        /// Absolute position (`removed + index`) of each job's unsent progress event.
        var pendingProgress: [JobID: Int] = [:]
        var removed = 0
        var waiter: CheckedContinuation<Item?, Never>?
        var finished = false
        var overflowed = false
        var coalesced = 0
        var followed: Set<JobID> = []
        /// Set by ``attach(stallLimit:wake:onStall:)``: frames are then pulled by an on-demand writer
        /// (``popBatchForWriter(limit:)``) instead of a task parked in ``next()`` (as SSE does).
        var wake: (@Sendable () -> Void)?
        var onStall: (@Sendable () -> Void)?
        var stallLimit: Duration?
        /// A writer started by `wake` is running and will see every frame appended before it stops.
        var writing = false
        var stallReported = false

        var count: Int { entries.count - head }

        /// Fallen too far behind: over capacity, or the oldest unsent frame older than `limit`.
        func isStuck(now: ContinuousClock.Instant, limit: Duration) -> Bool {
            overflowed || (head < entries.count && now - entries[head].enqueuedAt > limit)
        }

        mutating func pop() -> Item? {
            guard head < entries.count else { return nil }
            let entry = entries[head]
            if case .event(let event) = entry.item, event.kind == .progress, pendingProgress[event.jobId] == removed + head {
                pendingProgress[event.jobId] = nil
            }
            head += 1
            if head == entries.count {
                removed += entries.count
                entries.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 64 && head * 2 >= entries.count {
                removed += head
                entries.removeFirst(head)
                head = 0
            }
            return entry.item
        }
    }

    let capacity: Int
    let coalesceAbove: Int
    private let state = Mutex(State())
    private let clock = ContinuousClock()

    init(capacity: Int = 1024, coalesceAbove: Int = 32) {
        self.capacity = capacity
        self.coalesceAbove = coalesceAbove
    }

    func deliver(_ event: JobEvent) {
        enqueue(.event(event), coalescing: event.kind == .progress ? event.jobId : nil)
    }

    func deliver(reply frame: String) {
        enqueue(.reply(frame), coalescing: nil)
    }

    private func enqueue(_ item: Item, coalescing job: JobID?) {
        let now = clock.now
        let capacity = self.capacity
        let (waiter, wake, stall): (CheckedContinuation<Item?, Never>?, (@Sendable () -> Void)?, (@Sendable () -> Void)?) = state.withLock { state in
            guard !state.finished else { return (nil, nil, nil) }
            if let job, state.count >= coalesceAbove, let position = state.pendingProgress[job], position - state.removed >= state.head {
                state.entries[position - state.removed].item = item
                state.coalesced += 1
                return (nil, nil, Self.stallCheck(&state, now: now))
            }
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, nil, nil)
            }
            if let job { state.pendingProgress[job] = state.removed + state.entries.count }
            state.entries.append(Entry(item: item, enqueuedAt: now))
            if state.count > capacity { state.overflowed = true }
            var wake: (@Sendable () -> Void)?
            if let start = state.wake, !state.writing {
                state.writing = true
                wake = start
            }
            return (nil, wake, Self.stallCheck(&state, now: now))
        }
        waiter?.resume(returning: item)
        wake?()
        stall?()
    }

    /// With a writer attached, the stall check runs whenever a frame is queued (no watchdog task
    /// per connection). Reported once.
    private static func stallCheck(_ state: inout State, now: ContinuousClock.Instant) -> (@Sendable () -> Void)? {
        guard let limit = state.stallLimit, let onStall = state.onStall, !state.stallReported else { return nil }
        guard state.isStuck(now: now, limit: limit) else { return nil }
        state.stallReported = true
        return onStall
    }

    /// Switches the queue to an on-demand writer: `wake` is called (outside the lock) when a frame
    /// arrives and no writer is running; that writer takes frames with ``popBatchForWriter(limit:)``
    /// until it gets none, and the next frame calls `wake` again. An idle connection thus holds no writer
    /// task at all. `onStall` is called once when the client falls too far behind.
    func attach(stallLimit: Duration, wake: @escaping @Sendable () -> Void, onStall: @escaping @Sendable () -> Void) {
        let start: (@Sendable () -> Void)? = state.withLock { state in
            state.stallLimit = stallLimit
            state.wake = wake
            state.onStall = onStall
            guard state.count > 0, !state.writing else { return nil }
            state.writing = true
            return wake
        }
        start?()
    }

    /// Up to `limit` frames for the attached writer, oldest first; empty, which also ends that
    /// writer's turn, when nothing waits.
    func popBatchForWriter(limit: Int) -> [Item] {
        state.withLock { state in
            var batch: [Item] = []
            while batch.count < limit, let item = state.pop() { batch.append(item) }
            if batch.isEmpty { state.writing = false }
            return batch
        }
    }

    /// Ends the queue for good: drops what is unsent and the attached writer's callbacks (which
    /// refer back to this queue), so nothing outlives the connection.
    func close() {
        let waiter = state.withLock { state in
            state.finished = true
            state.entries.removeAll()
            state.head = 0
            state.pendingProgress.removeAll()
            state.wake = nil
            state.onStall = nil
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next frame to write, waiting for one; nil once the queue is finished (or the task cancelled).
    func next() async -> Item? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Item?, Never>) in
                let immediate: Item?? = state.withLock { state in
                    if let item = state.pop() { return .some(item) }
                    if state.finished { return .some(nil) }
                    state.waiter = continuation
                    return .none
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            finish()
        }
    }

    /// Ends the queue: the writer gets what is already queued, then nil.
    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// Whether the client has fallen too far behind: over capacity, or the oldest unsent frame has
    /// waited longer than `limit`. The rule the attached writer's stall check applies as frames are
    /// queued; nothing polls it any more (the watchdog task is gone), the tests ask it directly.
    func isStuck(longerThan limit: Duration) -> Bool {
        let now = clock.now
        return state.withLock { $0.isStuck(now: now, limit: limit) }
    }

    /// Unsent frames now (for tests and statistics).
    var pendingCount: Int { state.withLock { $0.count } }
    /// Progress events replaced by newer ones before they were sent.
    var coalescedCount: Int { state.withLock { $0.coalesced } }

    func follow(_ id: JobID) {
        _ = state.withLock { $0.followed.insert(id) }
    }

    func unfollow(_ id: JobID) {
        _ = state.withLock { $0.followed.remove(id) }
    }

    var followedJobs: Set<JobID> {
        state.withLock { $0.followed }
    }
}
