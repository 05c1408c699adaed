import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SpoolServer
import Testing

/// Other pages can embed Spool: the JS client module, the API and its preflight answer cross-origin.
@Suite struct CORSRouterTests {
    @Test func crossOriginRequestsAreAllowed() async throws {
        try await TestStorage.with { storage in
            let app = try await buildApplication(storage.configuration())
            try await app.test(.router) { client in
                try await client.execute(uri: "/js/spool-client.js", method: .get, headers: [.origin: "http://example.test"]) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.accessControlAllowOrigin] == "*")
                }
                let preflight: HTTPFields = [.origin: "http://example.test", .accessControlRequestMethod: "DELETE"]
                try await client.execute(uri: "/api/conversions", method: .options, headers: preflight) { response in
                    #expect(response.status == .noContent)
                    #expect(response.headers[.accessControlAllowMethods]?.contains("DELETE") == true)
                    #expect(response.headers[.accessControlAllowHeaders]?.contains("last-event-id") == true)
                }
            }
        }
    }
}
