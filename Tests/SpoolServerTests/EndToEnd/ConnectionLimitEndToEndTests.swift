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
        #expect(OpenFileBudget.connectionLimit(openFiles: 20_000, concurrentJobs: 2) == 20_000 - (128 + 32 + 1_000))
        #expect(OpenFileBudget.connectionLimit(openFiles: 1_048_576, concurrentJobs: 8) < 1_048_576 - 50_000)
        #expect(OpenFileBudget.connectionLimit(openFiles: 100, concurrentJobs: 4) == 16, "never below a usable minimum")
        #expect(OpenFileBudget.softLimit() > 0)
    }
}
