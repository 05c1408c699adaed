import Foundation
import Hummingbird
import HummingbirdTesting
import SpoolCore
import Testing
@testable import SpoolServer

/// The `{ "error": { code, message, retryable, details? } }` body of every API error.
private struct ErrorBody: Decodable {
    struct Detail: Decodable {
        let code: String
        let message: String
        let retryable: Bool
        let details: [String: String]?
    }
    let error: Detail
}

private func errorBody(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) -> ErrorBody.Detail? {
    let decoded = try? JSONDecoder().decode(ErrorBody.self, from: Data(response.body.readableBytesView))
    if decoded == nil {
        Issue.record("not an error body: \(String(buffer: response.body))", sourceLocation: sourceLocation)
    }
    return decoded?.error
}

private func jsonObject(_ response: TestResponse) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
}

/// Builds the real application in a fresh storage folder and runs `body` against its router.
private func withApp(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
    try await TestStorage.with { storage in
        let app = try await buildApplication(storage.configuration())
        try await app.test(.router, body)
    }
}

@Suite struct HTTPRouterTests {
    // MARK: Status routes

    @Test func healthz() async throws {
        try await withApp { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
            }
        }
    }

    @Test func readyzReportsEveryCheck() async throws {
        try await withApp { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                let object = try jsonObject(response)
                #expect(object["ready"] as? Bool == true)
                let checks = try #require(object["checks"] as? [String: Bool])
                #expect(checks == ["yt-dlp": true, "ffmpeg": true, "ffprobe": true, "storage": true])
            }
        }
    }

    @Test func readyzIsUnavailableWithoutATool() async throws {
        try await TestStorage.with { storage in
            var config = storage.configuration()
            config.tools.ffprobe = "spool-no-such-ffprobe-\(UUID().uuidString.prefix(8))"
            let app = try await buildApplication(config)
            try await app.test(.router) { client in
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    let object = try jsonObject(response)
                    #expect(object["ready"] as? Bool == false)
                    let checks = try #require(object["checks"] as? [String: Bool])
                    #expect(checks["ffprobe"] == false)
                    #expect(checks["ffmpeg"] == true)
                }
            }
        }
    }

    /// A tool configured by a path that does not exist makes the server not ready.
    @Test func readyzIsUnavailableWhenAToolPathIsMissing() async throws {
        try await TestStorage.with { storage in
            var config = storage.configuration()
            config.tools.ffmpeg = storage.path + "/bin/no-such-ffmpeg"
            let app = try await buildApplication(config)
            try await app.test(.router) { client in
                try await client.execute(uri: "/readyz", method: .get) { response in
                    let object = try jsonObject(response)
                    let checks = try #require(object["checks"] as? [String: Bool])
                    #expect(checks["storage"] == true)
                    #expect(response.status == .serviceUnavailable)
                    #expect(checks["ffmpeg"] == false)
                }
            }
        }
    }

    @Test func wsInfoHasTopLevelNumbers() async throws {
        struct Info: Decodable {
            let connections: Int
            let subscriptions: Int
            let messagesSent: Int
            let uptimeSeconds: Double
            let queuedJobs: Int
            let runningJobs: Int
        }
        try await withApp { client in
            try await client.execute(uri: "/api/ws/info", method: .get) { response in
                #expect(response.status == .ok)
                let info = try JSONDecoder().decode(Info.self, from: Data(response.body.readableBytesView))
                #expect(info.connections == 0)
                #expect(info.subscriptions == 0)
                #expect(info.messagesSent == 0)
                #expect(info.uptimeSeconds >= 0)
                #expect(info.queuedJobs == 0 && info.runningJobs == 0)
            }
        }
    }

    @Test func metrics() async throws {
        try await withApp { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = String(buffer: response.body)
                let lines = text.split(separator: "\n").map(String.init)
                #expect(lines.contains("spool_jobs_queued 0.0") || lines.contains("spool_jobs_queued 0"), "\(text)")
                #expect(text.contains("# TYPE spool_jobs_queued gauge"))
                #expect(text.contains("spool_jobs_running"))
                #expect(text.contains(#"spool_jobs_ended_total{status="failed"}"#))
            }
        }
    }

    @Test func indexPage() async throws {
        let expected = try String(contentsOfFile: TestStorage.publicPath + "/index.html", encoding: .utf8)
        try await withApp { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(String(buffer: response.body) == expected)
            }
        }
    }

    // MARK: Conversions: bad requests

    struct BadRequest: Sendable, CustomTestStringConvertible {
        let body: String
        let status: HTTPResponse.Status
        let code: String
        var field: String? = nil
        var testDescription: String { "\(code): \(body.prefix(60))" }
    }

    @Test(arguments: [
        BadRequest(body: "this is not json", status: .badRequest, code: "BAD_MESSAGE"),
        BadRequest(body: "", status: .badRequest, code: "BAD_MESSAGE"),
        BadRequest(body: "[1,2,3]", status: .badRequest, code: "BAD_MESSAGE"),
        BadRequest(body: #"{"url":5,"format":"mp3"}"#, status: .badRequest, code: "BAD_MESSAGE"),
        BadRequest(body: #"{"url":"https://e.com/a","format":"mp3","quality":192.5}"#, status: .badRequest, code: "BAD_MESSAGE"),
        BadRequest(body: #"{"format":"mp3"}"#, status: .badRequest, code: "MISSING_FIELD", field: "url"),
        BadRequest(body: #"{"url":"https://example.com/a"}"#, status: .badRequest, code: "MISSING_FIELD", field: "format"),
        BadRequest(body: #"{"url":"file:///etc/passwd","format":"mp3"}"#, status: .badRequest, code: "INVALID_URL"),
        BadRequest(body: #"{"url":"ftp://example.com/a.mp3","format":"mp3"}"#, status: .badRequest, code: "INVALID_URL"),
        BadRequest(body: #"{"url":"-https://x","format":"mp3"}"#, status: .badRequest, code: "INVALID_URL"),
        BadRequest(body: #"{"url":"javascript:alert(1)","format":"mp4"}"#, status: .badRequest, code: "INVALID_URL"),
        BadRequest(body: #"{"url":"https://example.com/a","format":"ogg"}"#, status: .badRequest, code: "UNSUPPORTED_FORMAT"),
        BadRequest(body: #"{"url":"https://example.com/a","format":"mp3","quality":"999"}"#, status: .badRequest, code: "INVALID_QUALITY"),
        BadRequest(body: #"{"url":"https://example.com/a","format":"mp4","quality":"192k"}"#, status: .badRequest, code: "INVALID_QUALITY"),
        BadRequest(
            body: #"{"url":"https://example.com/\#(String(repeating: "a", count: 17 * 1024))","format":"mp3"}"#,
            status: .contentTooLarge, code: "MESSAGE_TOO_LARGE"),
    ])
    func badConversionRequests(_ bad: BadRequest) async throws {
        try await withApp { client in
            try await client.execute(
                uri: "/api/conversions", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: bad.body)
            ) { response in
                #expect(response.status == bad.status)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                let error = errorBody(response)
                #expect(error?.code == bad.code)
                #expect(error?.message.isEmpty == false)
                #expect(error?.retryable == false)
                if let field = bad.field { #expect(error?.details?["field"] == field) }
                if bad.code == "MESSAGE_TOO_LARGE" { #expect(error?.details?["limit"] == "16384") }
            }
            // The server still answers afterwards, and nothing was queued.
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/ws/info", method: .get) { response in
                let info = try jsonObject(response)
                #expect(info["queuedJobs"] as? Int == 0)
            }
        }
    }

    /// The limit is 16 KiB inclusive: a body of exactly 16384 bytes is read (and then judged on its
    /// content), one byte more is refused unread.
    @Test func bodyLimitBoundary() async throws {
        @Sendable func body(size: Int) -> String {
            let json = #"{"url":"https://example.com/a","format":"ogg"}"#
            return json + String(repeating: " ", count: size - json.utf8.count)
        }
        try await withApp { client in
            try await client.execute(uri: "/api/conversions", method: .post, body: ByteBuffer(string: body(size: 16 * 1024))) { response in
                #expect(response.status == .badRequest)
                #expect(errorBody(response)?.code == "UNSUPPORTED_FORMAT")
            }
            try await client.execute(uri: "/api/conversions", method: .post, body: ByteBuffer(string: body(size: 16 * 1024 + 1))) { response in
                #expect(response.status == .contentTooLarge)
                #expect(errorBody(response)?.code == "MESSAGE_TOO_LARGE")
            }
        }
    }

    @Test func manyBadRequestsOnOneServer() async throws {
        try await withApp { client in
            for body in ["{", #"{"format":"mp3"}"#, #"{"url":"ftp://x/y","format":"mp3"}"#, String(repeating: "x", count: 20_000)] {
                try await client.execute(uri: "/api/conversions", method: .post, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest || response.status == .contentTooLarge)
                }
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
                }
            }
        }
    }

    // MARK: Conversions: unknown jobs

    @Test(arguments: [HTTPRequest.Method.get, .delete])
    func unknownJobIsNotFound(_ method: HTTPRequest.Method) async throws {
        let id = JobID.make().rawValue
        try await withApp { client in
            try await client.execute(uri: "/api/conversions/\(id)", method: method) { response in
                #expect(response.status == .notFound)
                let error = errorBody(response)
                #expect(error?.code == "JOB_NOT_FOUND")
                #expect(error?.message.contains(id) == true)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test(arguments: ["not-an-id", "0F8FAD5B-D9CB-469F-A165-70867728950E", "%2Fetc%2Fpasswd", "x"])
    func malformedJobIdIsNotFound(_ id: String) async throws {
        try await withApp { client in
            try await client.execute(uri: "/api/conversions/\(id)", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(errorBody(response)?.code == "JOB_NOT_FOUND")
            }
            try await client.execute(uri: "/api/conversions/\(id)", method: .delete) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func eventsOfAnUnknownJobAreNotFound() async throws {
        try await withApp { client in
            try await client.execute(uri: "/api/conversions/\(JobID.make())/events", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(errorBody(response)?.code == "JOB_NOT_FOUND")
            }
        }
    }
}

extension HTTPRouterTests {
    /// A job id with `..` in it never reaches the coordinator. The route answers 404
    /// `JOB_NOT_FOUND`; the `FileMiddleware` in front of every route turns that into a bodiless 400.
    @Test func dotDotJobIdIsRefused() async throws {
        try await withApp { client in
            for uri in ["/api/conversions/%2E%2E", "/api/conversions/..%2F..%2Fjobs.sqlite"] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound || response.status == .badRequest, "\(uri): \(response.status)")
                }
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }
}
