import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where tools are started and looked after: one thread of its own, off Swift's cooperative pool,
/// running at a lower CPU priority that every tool it starts inherits.
///
/// Starting a process blocks its thread: swift-subprocess starts tools with `posix_spawn` (a
/// `vfork`-style clone), so the calling thread waits until the child has closed its inherited
/// descriptors and called `exec`. With a thousand jobs moving from download to transcode together
/// (BENCHMARKS.md), those starts and the tools' own start-up took both cores, and the pushes of
/// every other job waited ~200–400 ms.
///
/// So the starts run here, and at `niceness` 10: the kernel gives the child's set-up and then the
/// tool itself (Linux children inherit the nice value of the thread that spawned them) the CPU
/// only when the server's own threads do not want it. (Spawning on the shared pool and nicing each
/// tool right after it started was tried: the step from download to transcode then blocked the
/// pool and its p99 doubled; BENCHMARKS.md, change 5.) A push server's pushes and
/// pages stay quick while conversions take whatever is left, which on an idle machine is all of it.
final class SpawnExecutor: TaskExecutor {
    static let shared = SpawnExecutor(niceness: 10)

    private let jobs = Mutex<[UnownedJob]>([])
    private let available = DispatchSemaphore(value: 0)
    private let niceness: Int32

    private init(niceness: Int32) {
        self.niceness = niceness
        let thread = Thread { [self] in runJobs() }
        thread.name = "spool-tool-spawn"
        thread.start()
    }

    /// Lowers a started tool to the spawn thread's nice value. Tools inherit it from swift-subprocess's
    /// worker thread, which inherits it from the thread that created it; this makes sure, whichever
    /// thread that was (a readiness check, a test), and is a no-op when it was this one.
    static func lowerPriority(of pid: Int32) {
        #if canImport(Glibc)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(pid), shared.niceness)
        #endif
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
