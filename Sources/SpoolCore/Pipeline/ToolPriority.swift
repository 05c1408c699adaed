#if canImport(Glibc)
import Glibc
#endif

/// How much CPU the media tools may take from everything else on the machine.
///
/// Spool's own threads always run at normal priority: a push server's pushes and pages must stay
/// quick however many conversions run, and conversions take what is left.
public enum ToolPriority: String, Sendable, CaseIterable {
    /// Linux's `SCHED_IDLE` (and nice 10): a tool runs only when no normal-priority thread wants the
    /// CPU, and any such thread that wakes takes the CPU from it at once. On an idle machine the
    /// tools still get all of it. The default: however many tools are runnable, together they weigh
    /// less than one server thread. With nice 10 alone each tool still weighs a tenth of a server
    /// thread, so when a thousand jobs left their download together (hundreds of tools exiting and
    /// starting at the same moment) the server's threads got a few per cent of a core and progress
    /// waited 50–120 ms at p99; with `idle`, 1–4 ms (BENCHMARKS.md, change 12).
    case idle
    /// Nice 10 only: tools yield to the server but still compete with it, and with every other
    /// program on the machine, in proportion to their number. For machines where other
    /// normal-priority work would otherwise starve the conversions.
    case low

    /// The nice value tools get either way (it is what counts under `low`).
    public static let niceness: Int32 = 10

    /// Sets a started tool's priority. Children and threads it starts later inherit it.
    func apply(to pid: Int32) {
        #if canImport(Glibc)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(pid), Self.niceness)
        if self == .idle {
            var parameters = sched_param(sched_priority: 0)
            _ = sched_setscheduler(pid, Self.schedIdle, &parameters)
        }
        #endif
    }

    /// `SCHED_IDLE` from `<sched.h>`, which Swift's Glibc module does not export (it is a GNU extension).
    static let schedIdle: Int32 = 5
}
