import Foundation
import Testing
@testable import SpoolCore

/// Where tools run: a process group of their own, in the server's session, at a lower priority.
@Suite struct ToolPlacementUnitTests {
    @Test func toolsRunNicedInAProcessGroupOfTheirOwnInTheServersSession() async throws {
        let (outcome, output) = try await ToolRunner().collect("sh", arguments: ["-c", "exec cat /proc/self/stat"])
        #expect(outcome.succeeded)
        let pid = try #require(Int32(output.prefix(while: \.isNumber)))
        // After the command name: state ppid pgrp session tty tpgid flags … priority nice.
        let fields = output[try #require(output.range(of: ") ")).upperBound...].split(separator: " ")
        let pgrp = try #require(Int32(fields[2]))
        let session = try #require(Int32(fields[3]))
        let nice = try #require(Int32(fields[16]))
        // Its own group, so a teardown reaches whatever it starts.
        #expect(pgrp == pid)
        // But not a session of its own: with autogroup scheduling a new session is a scheduling
        // group that weighs as much as the whole server, and the tool's nice value would not count.
        #expect(session == getsid(0))
        #expect(nice == 10)
    }
}
