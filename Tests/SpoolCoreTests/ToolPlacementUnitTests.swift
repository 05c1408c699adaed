import Foundation
import Synchronization
import Testing
@testable import SpoolCore

/// Where tools run: a process group of their own, in the server's session, at a lower priority.
@Suite struct ToolPlacementUnitTests {
    @Test func toolsRunNicedInAProcessGroupOfTheirOwnInTheServersSession() async throws {
        let (outcome, output) = try await ToolRunner(priority: .low).collect("sh", arguments: ["-c", "exec cat /proc/self/stat"])
        #expect(outcome.succeeded)
        let pid = try #require(Int32(output.prefix(while: \.isNumber)))
        // After the command name: state ppid pgrp session tty tpgid flags … priority nice.
        let fields = try #require(ProcessRecords.statFields(in: output))
        let pgrp = try #require(Int32(fields[2]))
        let session = try #require(Int32(fields[3]))
        let nice = try #require(Int32(fields[16]))
        // Its own group, so a teardown reaches whatever it starts.
        #expect(pgrp == pid)
        // But not a session of its own: with autogroup scheduling a new session is a scheduling
        // group that weighs as much as the whole server, and the tool's nice value would not count.
        #expect(session == getsid(0))
        #expect(nice == ToolPriority.niceness)
    }

    /// The scheduling policy (field 41 of `/proc/PID/stat`) of each tool, read the moment it is
    /// reported started: by then its priority is set.
    private func policies(_ priority: ToolPriority) async throws -> [Int32] {
        let seen = Mutex<[Int32]>([])
        let runner = ToolRunner(priority: priority)
        let record: (Int32) -> Void = { pid in
            let fields = ProcessRecords.statFields(of: pid) ?? []
            seen.withLock { $0.append(fields.count > 38 ? Int32(fields[38]) ?? -1 : -1) }
        }
        _ = try await runner.collect("sh", arguments: ["-c", "exit 0"], onSpawn: record)
        _ = try await runner.stream("sh", arguments: ["-c", "echo done"], onSpawn: record) { _ in false }
        return seen.withLock { $0 }
    }

    @Test func idleToolsRunOnlyOnCPUNothingElseWants() async throws {
        #expect(try await policies(.idle) == [ToolPriority.schedIdle, ToolPriority.schedIdle])
    }

    @Test func lowPriorityToolsStayInTheNormalClass() async throws {
        // SCHED_OTHER is 0.
        #expect(try await policies(.low) == [0, 0])
    }
}
