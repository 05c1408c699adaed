import Foundation
import Testing
@testable import SpoolServer

/// The connection limit, on the real executable: HummingbirdTesting's live mode rebuilds the
/// server configuration without its `availableConnectionsDelegate`, so only a real process shows it.
@Suite struct ConnectionLimitEndToEndTests {
    /// At the limit the server stops accepting: the next client waits in the listen backlog instead
    /// of the server running out of file descriptors, and is served once a slot frees.
    @Test func aClientPastTheLimitWaitsUntilAConnectionCloses() async throws {
        try await TestStorage.with { storage in
            try await SpoolProcess.run(storage: storage.path, arguments: ["--http-max-connections", "2", "--storage-jobs", "memory"]) { port, _ in
                var first: RawHTTPConnection? = try RawHTTPConnection(port: port)
                try first?.askHealth()
                #expect(first?.answer(within: 10_000)?.hasPrefix("HTTP/1.1 200") == true)
                let second = try RawHTTPConnection(port: port)
                try second.askHealth()
                #expect(second.answer(within: 10_000)?.hasPrefix("HTTP/1.1 200") == true)

                let third = try RawHTTPConnection(port: port)
                try third.askHealth()
                #expect(third.answer(within: 1_000) == nil, "a third connection must not be served while two are open")

                first = nil  // closes it, which frees a slot
                #expect(third.answer(within: 10_000)?.hasPrefix("HTTP/1.1 200") == true)
                #expect(second.answer(within: 0) == nil, "the connections held stay as they were")
            }
        }
    }

    @Test func theDefaultLimitKeepsAReserveBelowTheOpenFileLimit() {
        #expect(OpenFileBudget.connectionLimit(openFiles: 20_000, concurrentJobs: 2) == 20_000 - (128 + 2 * OpenFileBudget.descriptorsPerJob + 1_000))
        #expect(OpenFileBudget.connectionLimit(openFiles: 1_048_576, concurrentJobs: 8) < 1_048_576 - 50_000)
        #expect(OpenFileBudget.connectionLimit(openFiles: 100, concurrentJobs: 4) == 16, "never below a usable minimum")
        #expect(OpenFileBudget.softLimit() > 0)
    }

    /// Settings that would let the server run itself out of descriptors are lowered, not trusted.
    @Test func settingsAreFittedToTheOpenFileLimit() {
        #expect(OpenFileBudget.jobLimit(openFiles: 20_000) == (20_000 - 128 - 1_000) / 2 / OpenFileBudget.descriptorsPerJob)
        #expect(OpenFileBudget.jobLimit(openFiles: 20_000) >= 1_000, "the 1k-job benchmark fits here")
        #expect(OpenFileBudget.jobLimit(openFiles: 50) == 1, "always at least one job")

        let plenty = OpenFileBudget.fit(concurrentJobs: 2, maxConnections: nil, openFiles: 20_000)
        #expect(plenty.concurrentJobs == 2 && plenty.maxConnections == OpenFileBudget.connectionLimit(openFiles: 20_000, concurrentJobs: 2))

        let greedy = OpenFileBudget.fit(concurrentJobs: 8_000, maxConnections: 50_000, openFiles: 20_000)
        #expect(greedy.concurrentJobs == OpenFileBudget.jobLimit(openFiles: 20_000))
        #expect(greedy.maxConnections == OpenFileBudget.connectionLimit(openFiles: 20_000, concurrentJobs: greedy.concurrentJobs))
        // The two together stay inside the limit, and clients keep at least as much room as jobs.
        #expect(OpenFileBudget.fixedReserve + OpenFileBudget.descriptorsPerJob * greedy.concurrentJobs + greedy.maxConnections <= 20_000)
        #expect(greedy.maxConnections >= OpenFileBudget.descriptorsPerJob * greedy.concurrentJobs)

        let modest = OpenFileBudget.fit(concurrentJobs: 4, maxConnections: 2, openFiles: 20_000)
        #expect(modest.concurrentJobs == 4 && modest.maxConnections == 2, "a smaller explicit limit is kept")
    }
}
