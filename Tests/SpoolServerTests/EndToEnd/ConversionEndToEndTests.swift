import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SpoolCore
import Testing

/// Real conversions over the real protocol: real yt-dlp, ffmpeg and SQLite, media served from
/// loopback. Each asserts the whole event stream, then checks the file with ffprobe and downloads
/// it over HTTP, ranges included.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ConversionEndToEndTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let media: TestMedia.Item
        let format: String
        let quality: String
        let expectCodec: String
        let expectHeight: Int?
        let expectBitRate: Int?
        let expectRemux: Bool
        var testDescription: String { "\(media.rawValue) → \(format) \(quality)" }
    }

    static let cases: [Case] = [
        Case(media: .small, format: "mp3", quality: "128", expectCodec: "mp3", expectHeight: nil, expectBitRate: 128_000, expectRemux: false),
        Case(media: .small, format: "mp3", quality: "320", expectCodec: "mp3", expectHeight: nil, expectBitRate: 320_000, expectRemux: false),
        Case(media: .hd, format: "mp4", quality: "720", expectCodec: "h264", expectHeight: 720, expectBitRate: nil, expectRemux: true),
        Case(media: .hd, format: "mp4", quality: "360", expectCodec: "h264", expectHeight: 360, expectBitRate: nil, expectRemux: false),
        Case(media: .mpeg4, format: "mp4", quality: "480", expectCodec: "h264", expectHeight: 360, expectBitRate: nil, expectRemux: false),
    ]

    @Test(arguments: cases)
    func convertsAndServes(_ testCase: Case) async throws {
        let source = try await TestMedia.shared.path(testCase.media)
        let harness = SpoolHarness()
        try await OriginServer.run { origin in
            try await harness.run { client in
                let url = "\(origin)/media/\(source.lastPathComponent)"
                let frames = try await withSocket(client) { socket in
                    try await socket.send("start_conversion", id: "c1", payload: ["url": url, "format": testCase.format, "quality": testCase.quality])
                    let started = try await socket.next()
                    #expect(started.type == "conversion_started")
                    #expect(started.id == "c1")
                    let jobId = try #require(started.jobId)
                    return [started] + (try await socket.events(of: jobId))
                }
                try assertWellFormedStream(frames)
                let done = try #require(frames.last)
                #expect(done.type == "conversion_completed", "\(done)")
                #expect(done.progress == 100)
                let metadata = try #require(done.object("metadata"))
                #expect(metadata["remuxed"] as? Bool == testCase.expectRemux)
                let downloadUrl = try #require(done.string("downloadUrl"))
                let filename = try #require(done.string("filename"))
                #expect(filename.hasSuffix("." + testCase.format))

                // The stored file, as ffprobe sees it.
                let jobId = try #require(done.jobId)
                let stored = harness.storage.appendingPathComponent("files/\(jobId)/\(filename)").path
                let info = try await probe(stored)
                if testCase.format == "mp3" {
                    #expect(info.audioCodec == testCase.expectCodec)
                    #expect(info.videoCodec == nil)
                    let bitRate = try #require(info.audioBitRate ?? info.bitRate)
                    #expect(abs(bitRate - (testCase.expectBitRate ?? 0)) < 8_000, "bit rate \(bitRate)")
                } else {
                    #expect(info.videoCodec == testCase.expectCodec)
                    #expect(info.audioCodec == "aac")
                    #expect(info.height == testCase.expectHeight)
                }
                let duration = try #require(info.durationSeconds)
                #expect(abs(duration - testCase.media.durationSeconds) <= 0.5, "duration \(duration)")
                #expect(harness.leftoverScratch.isEmpty)

                try await assertDownloads(client, path: downloadUrl, matches: stored, format: testCase.format)
            }
        }
    }

    /// Event order, `seq`, progress and phases, as the protocol promises.
    func assertWellFormedStream(_ frames: [Frame]) throws {
        #expect(frames.first?.type == "conversion_started")
        #expect(frames.first?.seq == 1)
        #expect(frames.first?.string("status") == "queued")
        let seqs = frames.compactMap(\.seq)
        #expect(seqs.count == frames.count)
        #expect(seqs == Array(1...frames.count), "seq must rise by one: \(seqs)")
        let progress = frames.compactMap(\.progress)
        #expect(zip(progress, progress.dropFirst()).allSatisfy { $0 <= $1 }, "progress went backwards: \(progress)")
        let order = ["queued", "metadata", "download", "transcode", "store", "completed"]
        let steps = frames.compactMap(\.step).compactMap { order.firstIndex(of: $0) }
        #expect(zip(steps, steps.dropFirst()).allSatisfy { $0 <= $1 }, "phases went backwards: \(frames.compactMap(\.step))")
        for step in ["metadata", "download", "transcode", "store"] {
            #expect(frames.contains { $0.step == step }, "no \(step) phase reported")
        }
        #expect(frames.dropLast().allSatisfy { $0.type == "progress_update" || $0.type == "conversion_started" })
        #expect(frames.filter { $0.step == "download" || $0.step == "transcode" }.count >= 2)
    }

    func assertDownloads(_ client: some TestClientProtocol, path: String, matches stored: String, format: String) async throws {
        let expected = try Data(contentsOf: URL(fileURLWithPath: stored))
        let whole = try await client.execute(uri: path, method: .get)
        #expect(whole.status == .ok)
        #expect(whole.headers[.contentType] == (format == "mp3" ? "audio/mpeg" : "video/mp4"))
        #expect(whole.headers[.contentDisposition]?.hasPrefix("attachment;") == true)
        #expect(whole.headers[.eTag] != nil)
        #expect(Data(whole.body.readableBytesView) == expected)

        let tail = try await client.execute(uri: path, method: .get, headers: [.range: "bytes=-500"])
        #expect(tail.status == .partialContent)
        #expect(tail.headers[.contentRange] == "bytes \(expected.count - 500)-\(expected.count - 1)/\(expected.count)")
        #expect(Data(tail.body.readableBytesView) == expected.suffix(500))

        let beyond = try await client.execute(uri: path, method: .get, headers: [.range: "bytes=\(expected.count)-"])
        #expect(beyond.status == .rangeNotSatisfiable)
        #expect(beyond.headers[.contentRange] == "bytes */\(expected.count)")
    }
}
