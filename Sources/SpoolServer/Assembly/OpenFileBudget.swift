#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many connections the server may hold open, from the process's open-file limit.
///
/// Every connection is a file descriptor, and so is every pipe to a tool, every file being served
/// and SQLite's files. A server that accepts connections until `accept` fails with `EMFILE` has no
/// descriptor left for the rest — measured here, the process then died in libdispatch, which could
/// no longer open `/proc/self/task`. So connections stop being accepted below the limit, leaving a
/// reserve; clients past it wait in the listen backlog until one closes.
public enum OpenFileBudget {
    /// Raises the soft open-file limit to the hard one, as servers commonly do at start-up (the
    /// usual soft default of 1,024 is far too few for a push server), and returns the soft limit
    /// now in effect.
    @discardableResult
    public static func raiseSoftLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return clamp(limit.rlim_cur)
    }

    /// The soft open-file limit in effect.
    public static func softLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return clamp(limit.rlim_cur)
    }

    /// Descriptors kept for SQLite, logs, the listening socket and files being served.
    static let fixedReserve = 128
    /// Descriptors counted per running job: a tool's pipes and process handle, the job's files. The
    /// peak measured is ~6 (1,000 running jobs and 1,000 sockets held 6,944 at the moment every
    /// job changed tools at once); 8 leaves a third more.
    static let descriptorsPerJob = 8
    /// The fewest connections the server keeps room for, whatever else is configured.
    static let minimumConnections = 16

    /// Connections allowed under `openFiles`: the fixed reserve, ``descriptorsPerJob`` per concurrent
    /// job and 5 % for whatever else, never fewer than ``minimumConnections``.
    public static func connectionLimit(openFiles: Int, concurrentJobs: Int) -> Int {
        let reserve = fixedReserve + descriptorsPerJob * max(concurrentJobs, 1) + openFiles / 20
        return max(minimumConnections, openFiles - reserve)
    }

    /// The most jobs that can run at once under `openFiles`: jobs may take half of what is left
    /// after the reserves, so a push server keeps at least as many descriptors for its clients.
    /// Running out of descriptors while starting a tool is not an error swift-subprocess recovers
    /// from (measured: 8,000 jobs under a 20,000 limit ended the process with a fatal error), so a
    /// larger setting is lowered to this rather than trusted.
    public static func jobLimit(openFiles: Int) -> Int {
        max(1, (openFiles - fixedReserve - openFiles / 20) / 2 / descriptorsPerJob)
    }

    /// The configured job concurrency and connection limit, each lowered to what `openFiles` allows.
    public static func fit(concurrentJobs: Int, maxConnections: Int?, openFiles: Int) -> (concurrentJobs: Int, maxConnections: Int) {
        let jobs = min(max(concurrentJobs, 1), jobLimit(openFiles: openFiles))
        let connections = connectionLimit(openFiles: openFiles, concurrentJobs: jobs)
        return (jobs, min(maxConnections ?? connections, connections))
    }

    private static func clamp(_ value: rlim_t) -> Int {
        value > rlim_t(Int32.max) ? Int(Int32.max) : Int(value)
    }
}
