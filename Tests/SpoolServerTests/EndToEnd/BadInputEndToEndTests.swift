import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SpoolCore
import Testing

/// Every bad input gets a coded error, the connection stays usable, and no job or file is left
/// half-done.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct BadInputEndToEndTests {
    /// (what is sent, the code expected back)
    static let badFrames: [(String, String)] = [
        ("{not json", "BAD_MESSAGE"),
        ("[1,2,3]", "BAD_MESSAGE"),
        (clientFrame("make_coffee"), "UNKNOWN_TYPE"),
        (#"{"payload":{}}"#, "MISSING_FIELD"),
        (clientFrame("start_conversion", payload: ["format": "mp3"]), "MISSING_FIELD"),
        (clientFrame("start_conversion", payload: ["url": "https://example.invalid/a.mp4"]), "MISSING_FIELD"),
        (clientFrame("start_conversion", payload: ["url": "file:///etc/passwd", "format": "mp3"]), "INVALID_URL"),
        (clientFrame("start_conversion", payload: ["url": "ftp://example.invalid/a.mp3", "format": "mp3"]), "INVALID_URL"),
        (clientFrame("start_conversion", payload: ["url": "--exec=touch /tmp/pwned", "format": "mp3"]), "INVALID_URL"),
        (clientFrame("start_conversion", payload: ["url": "-https://example.invalid/a.mp4", "format": "mp3"]), "INVALID_URL"),
        (clientFrame("start_conversion", payload: ["url": "not a url", "format": "mp3"]), "INVALID_URL"),
        (clientFrame("start_conversion", payload: ["url": "https://example.invalid/a.mp4", "format": "ogg"]), "UNSUPPORTED_FORMAT"),
        (clientFrame("start_conversion", payload: ["url": "https://example.invalid/a.mp4", "format": "mp3", "quality": "999"]), "INVALID_QUALITY"),
        (clientFrame("start_conversion", payload: ["url": "https://example.invalid/a.mp4", "format": "mp4", "quality": "4k"]), "INVALID_QUALITY"),
        (clientFrame("subscribe_job", payload: ["jobId": "00000000-0000-0000-0000-000000000000"]), "JOB_NOT_FOUND"),
        (clientFrame("subscribe_job", payload: ["jobId": "../../etc"]), "JOB_NOT_FOUND"),
        (clientFrame("cancel_job", payload: ["jobId": "00000000-0000-0000-0000-000000000000"]), "JOB_NOT_FOUND"),
        (clientFrame("subscribe_job", payload: [:]), "MISSING_FIELD"),
        (clientFrame("subscribe_job", payload: ["jobId": "00000000-0000-0000-0000-000000000000", "after": -1]), "BAD_MESSAGE"),
        (clientFrame("ping", payload: ["padding": String(repeating: "x", count: 20_000)]), "MESSAGE_TOO_LARGE"),
    ]

    @Test func badFramesGetCodedErrorsAndTheConnectionLives() async throws {
        let harness = SpoolHarness()
        try await harness.run { client in
            try await withSocket(client) { socket in
                for (index, (text, code)) in Self.badFrames.enumerated() {
                    try await socket.send(text)
                    let reply = try await socket.next()
                    #expect(reply.type == "error", "\(text) → \(reply)")
                    #expect(reply.errorCode == code, "\(text) → \(reply)")
                    #expect((reply.string("message") ?? "").isEmpty == false)
                    if index % 5 == 0 { try await socket.expectAlive() }
                }
                // The correlation id is echoed on errors too.
                try await socket.send(clientFrame("start_conversion", id: "q7", payload: ["url": "ftp://x.invalid/", "format": "mp3"]))
                let reply = try await socket.next()
                #expect(reply.id == "q7")
                try await socket.expectAlive()
            }
            let info = try await client.execute(uri: "/api/ws/info", method: .get)
            #expect(info.status == .ok)
            // No job was created by any of it.
            #expect(harness.leftoverScratch.isEmpty)
        }
    }

    /// Sources that fail inside the pipeline: each a failed job with its code, nothing left behind,
    /// and a good conversion right after still works.
    @Test func badSourcesFailWithCodes() async throws {
        _ = try await TestMedia.shared.path(.junk)
        _ = try await TestMedia.shared.path(.page)
        let good = try await TestMedia.shared.path(.small)
        let harness = SpoolHarness()
        try await OriginServer.run { origin in
            try await harness.run { client in
                let cases: [(String, String)] = [
                    ("\(origin)/media/missing.mp4", "SOURCE_UNAVAILABLE"),
                    ("\(origin)/media/junk.mp4", "NOT_MEDIA"),
                    ("\(origin)/media/page.html", "NOT_MEDIA"),
                    ("http://127.0.0.1:9/nothing-listens-here.mp4", "SOURCE_UNAVAILABLE"),
                ]
                try await withSocket(client) { socket in
                    for (url, code) in cases {
                        try await socket.send("start_conversion", payload: ["url": url, "format": "mp3"])
                        let jobId = try #require(try await socket.next(where: { $0.type == "conversion_started" }).jobId)
                        let frames = try await socket.events(of: jobId)
                        let last = try #require(frames.last)
                        #expect(last.type == "conversion_failed", "\(url): \(last)")
                        #expect(last.errorCode == code, "\(url): \(last)")
                        let error = try #require(last.object("error"))
                        #expect((error["message"] as? String)?.contains(origin) == false, "tool output must not leak")
                        #expect(error["retryable"] is Bool)
                        #expect(processes(mentioning: jobId).isEmpty)
                    }
                    try await socket.send("start_conversion", payload: ["url": "\(origin)/media/\(good.lastPathComponent)", "format": "mp3"])
                    let jobId = try #require(try await socket.next(where: { $0.type == "conversion_started" }).jobId)
                    let frames = try await socket.events(of: jobId)
                    #expect(frames.last?.type == "conversion_completed")
                }
                #expect(harness.leftoverScratch.isEmpty, "scratch left: \(harness.leftoverScratch)")
            }
        }
    }

    /// A second client subscribing mid-job, and again after the end, sees the true state and the
    /// terminal event; the first client's subscriptions are released when it leaves.
    @Test func lateSubscribersGetStateAndTerminalEvent() async throws {
        let source = try await TestMedia.shared.path(.small)
        let harness = SpoolHarness()
        try await OriginServer.run { origin in
            try await harness.run { client in
                let url = "\(origin)/slow/\(source.lastPathComponent)?rate=200000"
                let jobId = try await withSocket(client) { socket in
                    try await socket.send("start_conversion", payload: ["url": url, "format": "mp3"])
                    return try #require(try await socket.next(where: { $0.type == "conversion_started" }).jobId)
                }
                try await withSocket(client) { socket in
                    try await socket.send("subscribe_job", id: "s1", payload: ["jobId": jobId, "after": 1])
                    let state = try await socket.next()
                    #expect(state.type == "job_state")
                    #expect(state.id == "s1")
                    #expect(state.jobId == jobId)
                    let frames = try await socket.events(of: jobId)
                    let seqs = frames.compactMap(\.seq)
                    #expect(seqs.first == 2, "replay starts right after `after`: \(seqs)")
                    #expect(seqs == Array(2..<(2 + seqs.count)))
                    #expect(frames.last?.type == "conversion_completed")
                }
                try await withSocket(client) { socket in
                    // After the end, with `after`: the state, every event after it, the terminal last.
                    try await socket.send("subscribe_job", payload: ["jobId": jobId, "after": 3])
                    let state = try await socket.next()
                    #expect(state.type == "job_state")
                    #expect(state.string("status") == "completed")
                    let replay = try await socket.events(of: jobId)
                    #expect(replay.compactMap(\.seq) == Array(4...(state.seq ?? 0)))
                    #expect(replay.last?.type == "conversion_completed")
                    // Without `after`: the state, then the terminal event only.
                    try await socket.send("subscribe_job", payload: ["jobId": jobId])
                    #expect(try await socket.next().type == "job_state")
                    let terminal = try await socket.next()
                    #expect(terminal.type == "conversion_completed")
                    #expect(terminal.seq == state.seq)
                    try await socket.expectAlive()
                }
                let info = try await client.execute(uri: "/api/ws/info", method: .get)
                #expect(String(buffer: info.body).contains(#""subscriptions":0"#), "\(String(buffer: info.body))")
            }
        }
    }
}
