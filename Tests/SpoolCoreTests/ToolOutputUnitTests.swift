import Foundation
import Subprocess
import Testing
@testable import SpoolCore

/// How ``ToolRunner/stream(_:arguments:workingDirectory:onSpawn:state:onLine:)`` reads a tool's
/// output: real `sh` processes, lines split on the event loop, the tail, exits and cancellation.
@Suite struct ToolOutputUnitTests {
    /// Runs `script` with `sh -c`; lines starting with "P" count as progress. Returns every line
    /// the handler saw (its state) and the outcome.
    private func run(_ script: String, runner: ToolRunner = ToolRunner()) async throws -> (lines: [String], outcome: ToolRunner.Outcome) {
        let (outcome, lines) = try await runner.stream("sh", arguments: ["-c", script], state: [String]()) { seen, line in
            seen.append(line)
            return line.hasPrefix("P")
        }
        return (lines, outcome)
    }

    @Test func linesEndAtNewlineOrCarriageReturnAndEmptyOnesAreSkipped() async throws {
        let (lines, outcome) = try await run(#"printf 'a\nb\r\nc\rd\n\n\re'"#)
        #expect(outcome.succeeded)
        #expect(lines == ["a", "b", "c", "d", "e"])
    }

    @Test func standardOutputAndErrorArriveAsOneStream() async throws {
        let (lines, _) = try await run("echo out; echo err >&2; echo out2")
        #expect(lines == ["out", "err", "out2"])
    }

    @Test func theTailKeepsTheLastLinesThatAreNotProgress() async throws {
        let (lines, outcome) = try await run(#"printf 'P1\nx1\nP2\nx2\nx3\nP3\n'; exit 3"#, runner: ToolRunner(tailLines: 2))
        #expect(lines.count == 6)
        #expect(outcome.tail == ["x2", "x3"])
        #expect(outcome.status == .exited(3))
        #expect(!outcome.succeeded)
    }

    @Test func aLineWithoutNewlinesIsCutIntoPieces() async throws {
        let size = ToolOutputChannel<Void>.maxLineBytes * 2 + 100
        let (lines, _) = try await run("head -c \(size) /dev/zero | tr '\\0' a")
        #expect(lines.map(\.count) == [ToolOutputChannel<Void>.maxLineBytes, ToolOutputChannel<Void>.maxLineBytes, 100])
        #expect(lines.allSatisfy { $0.allSatisfy { $0 == "a" } })
    }

    @Test func bytesThatAreNotUTF8AreReplacedNotDropped() async throws {
        let (lines, _) = try await run(#"printf 'ok\377done\n'"#)
        #expect(lines == ["ok\u{FFFD}done"])
    }

    @Test func aMissingToolIsReportedAsSuch() async throws {
        await #expect(throws: SpoolError.toolMissing("/nonexistent/spool-tool")) {
            _ = try await ToolRunner().stream("/nonexistent/spool-tool", arguments: [], state: ()) { _, _ in false }
        }
    }

    /// Cancelling ends the tool's whole group (the shell and the `sleep` it started) and the run
    /// throws `CancellationError` with what was read so far discarded.
    @Test func cancellingEndsTheToolAndEverythingItStarted() async throws {
        let started = AsyncStream<Int32>.makeStream()
        let seen = AsyncStream<String>.makeStream()
        let run = Task {
            try await ToolRunner(gracePeriod: .milliseconds(200)).stream(
                "sh", arguments: ["-c", "sleep 30 & echo $!; wait"], onSpawn: { pid in started.continuation.yield(pid) }, state: ()
            ) { _, line in
                seen.continuation.yield(line)
                return false
            }
        }
        var iterator = seen.stream.makeAsyncIterator()
        let sleeper = try #require(await iterator.next().flatMap { Int32($0) })
        var spawned = started.stream.makeAsyncIterator()
        let shell = try #require(await spawned.next())
        run.cancel()
        await #expect(throws: CancellationError.self) { try await run.value }
        #expect(kill(shell, 0) == -1 && errno == ESRCH)
        // The sleep is the shell's child in the same group, so it got the SIGTERM too; it may take a
        // moment to act on it (it runs at idle priority), so this waits, boundedly, for it to be
        // gone or a zombie waiting for init.
        var state = processState(sleeper)
        for _ in 0..<100 where state != nil && state != "Z" {
            try await Task.sleep(for: .milliseconds(50))
            state = processState(sleeper)
        }
        #expect(state == nil || state == "Z", "the sleep is still \(state ?? "?")")
    }

    /// The state letter of `/proc/PID/stat`, nil when there is no such process.
    private func processState(_ pid: Int32) -> String? {
        ProcessRecords.statFields(of: pid)?.first.map(String.init)
    }
}
