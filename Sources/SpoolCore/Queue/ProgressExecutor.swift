import Foundation
import NIOCore
import Synchronization

/// The thread the ``JobCoordinator`` runs on, which takes progress reports before anything else.
///
/// Why a thread of its own: on Linux, Swift's shared pool runs work in arrival order whatever its
/// priority. When a thousand jobs leave their download together, each handles its tool's exit,
/// starts ffprobe and ffmpeg, parses JSON and publishes its step change; a progress report of a job
/// still working then waited behind all of it, on the pool and again in the coordinator's queue —
/// 100 ms and more at p99 (BENCHMARKS.md, changes 11 and 12). Tool output is read and paced on an
/// event loop (``ToolOutputChannel``), and each paced report is handed here with
/// ``runUrgently(_:)``; this executor runs those before the coordinator's other work, so a report is
/// published and handed to its sockets while the step changes wait their turn. One in
/// ``fairnessInterval`` turns goes to the oldest ordinary job, so a flood of progress can slow, but
/// never stop, submissions, subscriptions and step changes.
///
/// Urgent work is a plain closure, not a task: it starts no task and hops nowhere, and every report
/// of a job (posted from the event loop or awaited by its pipeline) travels the one FIFO queue, so
/// reports apply in the order they were made.
public final class ProgressExecutor: SerialExecutor {
    /// The one instance: every coordinator in the process shares its thread (tests make many).
    public static let shared = ProgressExecutor(name: "spool-progress")

    /// After this many urgent items in a row, one ordinary job runs (if one waits).
    static let fairnessInterval = 8

    private enum Work {
        case urgent(@Sendable () -> Void)
        case ordinary(UnownedJob)
    }

    /// Two FIFO queues; urgent first, except for every ``fairnessInterval``-th turn.
    private struct Queues {
        var urgent = CircularBuffer<@Sendable () -> Void>()
        var ordinary = CircularBuffer<UnownedJob>()
        var urgentInARow = 0

        mutating func pop() -> Work? {
            if !urgent.isEmpty, ordinary.isEmpty || urgentInARow < ProgressExecutor.fairnessInterval {
                urgentInARow += 1
                return .urgent(urgent.removeFirst())
            }
            urgentInARow = 0
            return ordinary.popFirst().map { .ordinary($0) }
        }
    }

    private let queues = Mutex(Queues())
    private let available = DispatchSemaphore(value: 0)
    private let name: String
    /// The thread (a `pthread_t`), to answer "is this code running on it?" for `assumeIsolated`.
    private let thread = Atomic<UInt>(0)

    init(name: String) {
        self.name = name
        let started = DispatchSemaphore(value: 0)
        Thread { [self] in
            thread.store(UInt(pthread_self()), ordering: .releasing)
            started.signal()
            runJobs()
        }.start()
        started.wait()
    }

    /// Runs `work` on this thread ahead of the queued ordinary jobs, after the urgent work queued
    /// before it. `work` must not block: every coordinator shares this thread.
    public func runUrgently(_ work: @escaping @Sendable () -> Void) {
        queues.withLock { $0.urgent.append(work) }
        available.signal()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queues.withLock { $0.ordinary.append(job) }
        available.signal()
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Whether the caller runs on this executor's thread, which is all isolation to it means: urgent
    /// work reaches the coordinator's state through `assumeIsolated`, which asks here.
    public func isIsolatingCurrentContext() -> Bool? {
        isOnThread
    }

    public func checkIsolated() {
        precondition(isOnThread, "not on the \(name) thread")
    }

    private var isOnThread: Bool {
        pthread_equal(pthread_self(), pthread_t(thread.load(ordering: .acquiring))) != 0
    }

    private func runJobs() -> Never {
        // Foundation's `Thread.name` does not reach the OS on Linux, and `ps -L` and perf show the
        // creator's name unless the thread renames itself.
        try? name.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
        let executor = asUnownedSerialExecutor()
        while true {
            available.wait()
            // Every signal stands for one item; which one runs is the queues' choice.
            switch queues.withLock({ $0.pop() }) {
            case .urgent(let work): work()
            case .ordinary(let job): job.runSynchronously(on: executor)
            case nil: continue
            }
        }
    }
}
