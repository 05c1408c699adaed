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

    /// Connections allowed under `openFiles`: a fixed reserve (SQLite, logs, the listening socket,
    /// files being served), 16 per concurrent job (a tool's pipes and the job's files) and 5 % for
    /// whatever else, never fewer than 16.
    public static func connectionLimit(openFiles: Int, concurrentJobs: Int) -> Int {
        let reserve = 128 + 16 * max(concurrentJobs, 1) + openFiles / 20
        return max(16, openFiles - reserve)
    }

    private static func clamp(_ value: rlim_t) -> Int {
        value > rlim_t(Int32.max) ? Int(Int32.max) : Int(value)
    }
}
