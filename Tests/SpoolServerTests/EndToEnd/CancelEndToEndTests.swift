import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SpoolCore
import Testing

/// Cancelling ends the whole process tree and leaves no scratch file, in either long phase.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct CancelEndToEndTests {
    @Test(arguments: ["download", "transcode"])
    func cancelMidPhase(_ phase: String) async throws {
        let source = try await TestMedia.shared.path(.long)
        let harness = SpoolHarness()
        try await OriginServer.run { origin in
            try await harness.run { client in
                // Throttled for the download case, so the download is surely still running when cancelled.
                let url = phase == "download" ? "\(origin)/slow/\(source.lastPathComponent)?rate=300000" : "\(origin)/media/\(source.lastPathComponent)"
                let (jobId, frames, cancelledAt) = try await withSocket(client) { socket in
                    try await socket.send("start_conversion", payload: ["url": url, "format": "mp4", "quality": "720"])
                    let jobId = try #require(try await socket.next(where: { $0.type == "conversion_started" }).jobId)
                    // Wait until the phase is under way with real progress inside it.
                    var seenInPhase = 0
                    while seenInPhase < 3 {
                        let frame = try await socket.next()
                        if frame.isTerminal { throw TestFailure("the job ended before it could be cancelled: \(frame)") }
                        if frame.step == phase { seenInPhase += 1 }
                    }
                    #expect(processes(mentioning: jobId).isEmpty == false, "no tool process found while \(phase) runs")
                    let cancelledAt = ContinuousClock.now
                    try await socket.send("cancel_job", id: "x", payload: ["jobId": jobId])
                    let frames = try await socket.events(of: jobId)
                    return (jobId, frames, cancelledAt)
                }
                let elapsed = ContinuousClock.now - cancelledAt
                #expect(frames.last?.type == "conversion_cancelled", "\(frames.suffix(3))")
                #expect(frames.last?.string("status") == "cancelled")
                #expect(!frames.contains { $0.type == "conversion_completed" })
                // Kill switch reached the whole group (reported, not asserted as a timing).
                print("cancel during \(phase) took \(elapsed)")
                #expect(processes(mentioning: jobId).isEmpty, "left running: \(processes(mentioning: jobId))")
                #expect(harness.leftoverScratch.isEmpty, "scratch left: \(harness.leftoverScratch)")
                let files = harness.storage.appendingPathComponent("files/\(jobId)").path
                #expect(!FileManager.default.fileExists(atPath: files))

                // The job's final state is kept, and the server keeps serving.
                let state = try await client.execute(uri: "/api/conversions/\(jobId)", method: .get)
                #expect(state.status == .ok)
                #expect(String(buffer: state.body).contains(#""status":"cancelled""#))
            }
        }
    }

    @Test func cancelQueuedJobOverHTTP() async throws {
        let source = try await TestMedia.shared.path(.long)
        let harness = SpoolHarness(concurrentJobs: 1)
        try await OriginServer.run { origin in
            try await harness.run { client in
                let body = { (quality: String) in
                    ByteBuffer(string: #"{"url":"\#(origin)/slow/\#(source.lastPathComponent)?rate=200000","format":"mp3","quality":"\#(quality)"}"#)
                }
                let first = try await client.execute(uri: "/api/conversions", method: .post, body: body("128"))
                let second = try await client.execute(uri: "/api/conversions", method: .post, body: body("192"))
                #expect(first.status == .accepted)
                #expect(second.status == .accepted)
                let firstId = try #require(Frame(text: #"{"payload":\#(String(buffer: first.body))}"#).jobId)
                let secondId = try #require(Frame(text: #"{"payload":\#(String(buffer: second.body))}"#).jobId)
                let cancelSecond = try await client.execute(uri: "/api/conversions/\(secondId)", method: .delete)
                #expect(cancelSecond.status == .accepted)
                #expect(String(buffer: cancelSecond.body).contains(#""status":"cancelled""#))
                let cancelFirst = try await client.execute(uri: "/api/conversions/\(firstId)", method: .delete)
                #expect(cancelFirst.status == .accepted)
                let again = try await client.execute(uri: "/api/conversions/\(secondId)", method: .delete)
                #expect(again.status == .conflict)
                #expect(String(buffer: again.body).contains("JOB_ALREADY_FINISHED"))
                // The running one ends too.
                try await withSocket(client) { socket in
                    try await socket.send("subscribe_job", payload: ["jobId": firstId, "after": 0])
                    _ = try await socket.next(where: { $0.type == "conversion_cancelled" && $0.jobId == firstId })
                }
                #expect(processes(mentioning: firstId).isEmpty)
            }
        }
    }
}
