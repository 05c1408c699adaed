import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where tools are started and looked after: one thread of its own, off Swift's cooperative pool,
/// running at a lower CPU priority that every tool inherits.
///
/// swift-subprocess starts every process with `posix_spawn` (a `vfork`-style clone) from one worker
/// thread of its own, which waits there until the child has closed its inherited descriptors and
/// called `exec`. That worker is created on first use by the thread that first needs it, and Linux
/// threads and children inherit the nice value of the thread that creates them. Running every
/// `Subprocess.run` (and the tool lookup of `/readyz`) here, at `niceness` 10, makes this thread
/// create the worker, so the child's set-up and then the tool itself get the CPU only when the
/// server's own threads do not want it; ``lowerPriority(of:)`` holds tools to it should the worker
/// ever come from elsewhere. The rest of each start (pipes, registrations, a short tool's output)
/// also stays here, off the pool: with a thousand jobs moving from download to transcode together
/// (BENCHMARKS.md) the pushes of every other job waited ~200–400 ms before this executor, and
/// running it all on the pool instead was tried twice and made that moment worse (changes 5 and
/// 11). A push server's pushes and pages stay quick while conversions take whatever is left,
/// which on an idle machine is all of it.
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
