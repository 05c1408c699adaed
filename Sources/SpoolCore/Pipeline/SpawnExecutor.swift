import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where tools are started and looked after: one thread of its own, off Swift's cooperative pool,
/// at nice 10.
///
/// swift-subprocess starts every process with `posix_spawn` (a `vfork`-style clone) from one worker
/// thread of its own, created on first use by the thread that first needs it; Linux threads and
/// children inherit the nice value of the thread that creates them. Running every `Subprocess.run`
/// (and the tool lookup of `/readyz`) here makes this thread create that worker, so a child's
/// set-up before `exec` is niced too, before ``ToolPriority`` takes over for the tool itself. The
/// rest of each start (pipes, registrations, a short tool's output, waiting for the exit) also
/// stays here, off the pool: with a thousand jobs moving from download to transcode together
/// (BENCHMARKS.md) the pushes of every other job waited ~200–400 ms before this executor, and
/// running it all on the pool instead was tried twice and made that moment worse (changes 5 and
/// 11).
///
/// Nice 10, not `SCHED_IDLE` like the tools: this thread shares locks with the server's own
/// threads (its job queue, the allocator's), and an idle-class thread preempted while holding one
/// would stall them until the machine had nothing else to do. Nothing on the progress path waits
/// for it (change 12).
final class SpawnExecutor: TaskExecutor {
    static let shared = SpawnExecutor(niceness: ToolPriority.niceness)

    private let jobs = Mutex<[UnownedJob]>([])
    private let available = DispatchSemaphore(value: 0)
    private let niceness: Int32

    private init(niceness: Int32) {
        self.niceness = niceness
        let thread = Thread { [self] in runJobs() }
        thread.name = "spool-tool-spawn"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        available.signal()
    }

    private func runJobs() -> Never {
        #if canImport(Glibc)
        // Linux keeps a nice value per thread, and PRIO_PROCESS with 0 means the calling thread.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
        #endif
        let executor = asUnownedTaskExecutor()
        while true {
            available.wait()
            let job = jobs.withLock { $0.removeFirst() }
            job.runSynchronously(on: executor)
        }
    }
}
