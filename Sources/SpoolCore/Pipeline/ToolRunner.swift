import Foundation
import Logging
import NIOPosix
import Subprocess
import SystemPackage

/// Runs one media tool as a subprocess in its own process group and tears the whole group down
/// when the calling task is cancelled.
///
/// Why swift-subprocess and not `Foundation.Process`: children that `Process` starts from async
/// code inherit a blocked SIGTERM, so cancelling would do nothing. Here the child gets a clean signal
/// mask, a process group of its own (so the group holds yt-dlp's own ffmpeg children too), and a
/// teardown of SIGTERM to the group, then SIGKILL.
///
/// A process group, not a new session: with the kernel's autogroup scheduling (on by default, and in
/// force whenever the server is not in a CPU cgroup of its own, as when it is started from a shell),
/// every new session is a scheduling group of its own that weighs as much as the whole server. A
/// thousand tools then outweighed the server a thousand to one, and their priority (see
/// ``ToolPriority``) counted for nothing. Within the server's group a tool yields to the server's
/// threads (BENCHMARKS.md, changes 11 and 12).
public struct ToolRunner: Sendable {
    /// How a run ended: the exit status and the last lines the tool printed that were not progress.
    public struct Outcome: Sendable {
        public var status: TerminationStatus
        public var tail: [String]
        public var succeeded: Bool { status.isSuccess }
    }

    /// How long SIGTERM may take before SIGKILL.
    public var gracePeriod: Duration
    /// How many non-progress lines to keep for logs and error classification.
    public var tailLines: Int

    /// Where tool output is read (``ToolOutputChannel``).
    public var eventLoopGroup: MultiThreadedEventLoopGroup

    /// The default place tool output is read: one event-loop thread of its own. Not the server's
    /// loops: when the sockets keep those busy (a fan-out to 10,000 subscribers), a tool's lines
    /// were read late and in bursts, and progress went out at a tenth of its pace (BENCHMARKS.md,
    /// change 12). One thread reads the output of a thousand running tools with room to spare.
    public static let outputReaders = MultiThreadedEventLoopGroup._makePerpetualGroup(threadNamePrefix: "spool-tool-output-", numberOfThreads: 1)

    /// How much CPU the tools may take (set on each tool right after it starts).
    public var priority: ToolPriority

    public init(
        gracePeriod: Duration = .milliseconds(750), tailLines: Int = 20, priority: ToolPriority = .idle,
        eventLoopGroup: MultiThreadedEventLoopGroup = outputReaders
    ) {
        self.gracePeriod = gracePeriod
        self.tailLines = tailLines
        self.priority = priority
        self.eventLoopGroup = eventLoopGroup
    }

    private var platformOptions: PlatformOptions {
        var options = PlatformOptions()
        options.processGroupID = 0
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: gracePeriod)]
        return options
    }

    /// Runs `command` with stdout and stderr merged into one line stream, handing each line to
    /// `onLine` together with `state`, which the handler may change and which is returned at the
    /// end; `onLine` returns whether the line was progress (progress lines are not kept in the tail).
    /// Throws `CancellationError` when the task was cancelled, after the group is gone.
    ///
    /// The lines are read and handled on an event loop (``ToolOutputChannel``), so `onLine` must not
    /// block; what it reports goes out without waiting (``ProgressSink/post(_:)``).
    public func stream<State: Sendable>(
        _ command: String,
        arguments: [String],
        workingDirectory: FilePath? = nil,
        onSpawn: (Int32) -> Void = { _ in },
        state: State,
        onLine: @escaping @Sendable (inout State, String) -> Bool
    ) async throws -> (outcome: Outcome, state: State) {
        let output = try await ToolOutputChannel.open(on: eventLoopGroup, tailLines: tailLines, state: state, onLine: onLine)
        // The child gets the write end as both stdout and stderr; this process closes its copy
        // exactly once, as soon as the spawn is over either way, so end-of-file means the tool (and
        // whatever it started) is done.
        let writeEnd = FileDescriptorOutput.fileDescriptor(output.writeEnd.descriptor, closeAfterSpawningProcess: false)
        let status: TerminationStatus
        do {
            status = try await Self.mapSpawnErrors(command) {
                try await Subprocess.run(
                    ToolPaths.executable(command),
                    arguments: Arguments(arguments),
                    environment: .inherit.updating(["PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"]),
                    workingDirectory: workingDirectory,
                    platformOptions: platformOptions,
                    input: .none,
                    output: writeEnd,
                    error: writeEnd
                ) { execution in
                    output.writeEnd.close()
                    priority.apply(to: execution.processIdentifier.value)
                    onSpawn(execution.processIdentifier.value)
                }.terminationStatus
            }
        } catch {
            // Not started (or torn down): close both ends; nothing more will be read.
            output.writeEnd.close()
            output.close()
            throw error
        }
        // Waited for here, back on the shared pool, and not inside the run on the niced spawn
        // thread: waiting registers with the event loop under its lock, and a niced thread holding
        // that lock while a thousand niced tools take the CPU stalled the loop (BENCHMARKS.md,
        // change 12). swift-subprocess tears the group down on cancellation without the body.
        let lines = try await output.lines()
        try Task.checkCancellation()
        return (Outcome(status: status, tail: lines.tail.lines), lines.state)
    }

    /// ``stream(_:arguments:workingDirectory:onSpawn:state:onLine:)`` for a handler that keeps nothing.
    public func stream(
        _ command: String,
        arguments: [String],
        workingDirectory: FilePath? = nil,
        onSpawn: (Int32) -> Void = { _ in },
        onLine: @escaping @Sendable (String) -> Bool
    ) async throws -> Outcome {
        try await stream(command, arguments: arguments, workingDirectory: workingDirectory, onSpawn: onSpawn, state: ()) { _, line in
            onLine(line)
        }.outcome
    }

    /// Runs `command` and collects its whole stdout (at most `limit` bytes) and the tail of stderr.
    public func collect(
        _ command: String,
        arguments: [String],
        limit: Int = 64 << 20,
        onSpawn: (Int32) -> Void = { _ in }
    ) async throws -> (outcome: Outcome, output: String) {
        let result = try await Self.mapSpawnErrors(command) {
            try await Subprocess.run(
                ToolPaths.executable(command),
                arguments: Arguments(arguments),
                environment: .inherit.updating(["PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"]),
                platformOptions: platformOptions,
                input: .none,
                output: .string(limit: limit),
                error: .string(limit: 256 << 10)
            ) { execution in
                priority.apply(to: execution.processIdentifier.value)
                onSpawn(execution.processIdentifier.value)
            }
        }
        try Task.checkCancellation()
        var tail = LineTail(capacity: tailLines)
        for line in result.standardError.split(whereSeparator: \.isNewline) { tail.append(String(line)) }
        return (Outcome(status: result.terminationStatus, tail: tail.lines), result.standardOutput)
    }

    /// Runs `body` (a `Subprocess.run`) on the ``SpawnExecutor``, so the blocking start of the
    /// process never holds a cooperative thread. A missing binary is the operator's problem, not
    /// the user's: it gets its own code.
    private static func mapSpawnErrors<T: Sendable>(_ command: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await withTaskExecutorPreference(SpawnExecutor.shared) { try await body() }
        } catch let error as SubprocessError where error.code == .executableNotFound || error.code == .spawnFailed {
            throw SpoolError.toolMissing(command)
        }
    }
}

/// The last few lines of a stream, kept in a ring.
struct LineTail: Sendable {
    private(set) var lines: [String] = []
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    mutating func append(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, capacity > 0 else { return }
        if lines.count == capacity { lines.removeFirst() }
        lines.append(String(trimmed.prefix(500)))
    }
}
