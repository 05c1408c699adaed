import Foundation
import Testing
@testable import SpoolCore

// MARK: - EventHistory

@Suite struct EventHistoryUnitTests {
    private let id = JobID(rawValue: "00000000-0000-0000-0000-000000000001")

    private func event(_ seq: Int) -> JobEvent {
        JobEvent(jobId: id, seq: seq, kind: seq == 1 ? .started : .progress, frame: "frame-\(seq)")
    }

    private func history(capacity: Int, seqs: ClosedRange<Int>) -> EventHistory {
        var history = EventHistory(capacity: capacity)
        for seq in seqs { history.append(event(seq)) }
        return history
    }

    @Test func emptyHistoryReplaysNothing() {
        #expect(EventHistory(capacity: 4).events(after: 0) == [])
        #expect(EventHistory(capacity: 4).events(after: 10) == [])
    }

    @Test func replaysExactlyTheEventsAfterSeq() {
        let history = history(capacity: 10, seqs: 1...5)
        #expect(history.events(after: 0)?.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(history.events(after: 2)?.map(\.seq) == [3, 4, 5])
        #expect(history.events(after: 2)?.map(\.frame) == ["frame-3", "frame-4", "frame-5"])
        #expect(history.events(after: 5) == [])
        #expect(history.events(after: 99) == [])
    }

    @Test func wrapAroundKeepsTheNewestInOrder() {
        let history = history(capacity: 3, seqs: 1...7)
        #expect(history.events(after: 4)?.map(\.seq) == [5, 6, 7])
        #expect(history.events(after: 5)?.map(\.seq) == [6, 7])
        #expect(history.events(after: 6)?.map(\.seq) == [7])
        #expect(history.events(after: 7) == [])
    }

    @Test func gapGivesNil() {
        let history = history(capacity: 3, seqs: 1...7)
        // Events 1...4 are gone: a client that saw only up to 3 cannot be replayed to.
        #expect(history.events(after: 3) == nil)
        #expect(history.events(after: 0) == nil)
    }

    @Test(arguments: 1...6)
    func everyWrapPositionReplaysInOrder(_ extra: Int) {
        let capacity = 4
        let last = capacity + extra
        let history = history(capacity: capacity, seqs: 1...last)
        #expect(history.events(after: last - capacity)?.map(\.seq) == Array((last - capacity + 1)...last))
        #expect(history.events(after: last - capacity - 1) == nil)
    }

    @Test func capacityIsAtLeastOne() {
        var history = EventHistory(capacity: 0)
        history.append(event(1))
        history.append(event(2))
        #expect(history.capacity == 1)
        #expect(history.events(after: 1)?.map(\.seq) == [2])
        #expect(history.events(after: 0) == nil)
    }
}

// MARK: - SpoolError

@Suite struct SpoolErrorUnitTests {
    @Test(arguments: [
        SpoolError.missingField("url"),
        .messageTooLarge(limit: 16384),
        .invalidQuality("999", format: .mp3, allowed: ["64", "128"]),
        .unsupportedFormat("ogg"),
        .unknownType("hello"),
        .sourceUnavailable("gone", retryable: true),
        .downloadFailed("partial"),
        .toolMissing("ffmpeg"),
        .interrupted(),
        .jobNotFound("abc"),
        .jobFinished(.completed),
        .badMessage("x"),
    ])
    func codableRoundTrip(_ error: SpoolError) throws {
        let data = try JSONEncoder().encode(error)
        let decoded = try JSONDecoder().decode(SpoolError.self, from: data)
        #expect(decoded == error)
        #expect(decoded.code == error.code)
        #expect(decoded.message == error.message)
        #expect(decoded.retryable == error.retryable)
        #expect(decoded.details == error.details)
    }

    @Test func wireForm() throws {
        let data = try JSONEncoder().encode(SpoolError.missingField("format"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["code"] as? String == "MISSING_FIELD")
        #expect(object["message"] as? String == "The field 'format' is required.")
        #expect(object["retryable"] as? Bool == false)
        #expect(object["details"] as? [String: String] == ["field": "format"])

        let plain = try JSONSerialization.jsonObject(with: JSONEncoder().encode(SpoolError.interrupted())) as? [String: Any]
        #expect(plain?["details"] == nil)
        #expect(plain?["retryable"] as? Bool == true)
    }

    @Test func decodingToleratesMissingOptionalFieldsAndUnknownCodes() throws {
        let minimal = try JSONDecoder().decode(SpoolError.self, from: Data(#"{"code":"NOT_MEDIA","message":"m"}"#.utf8))
        #expect(minimal.code == "NOT_MEDIA" && minimal.message == "m" && minimal.retryable == false && minimal.details == nil)
        let unknown = try JSONDecoder().decode(SpoolError.self, from: Data(#"{"code":"SOMETHING_NEW","message":"m"}"#.utf8))
        #expect(unknown.code == "INTERNAL_ERROR")
    }

    @Test func codesAreStable() {
        #expect(SpoolError.jobFinished(.failed).code == "JOB_ALREADY_FINISHED")
        #expect(SpoolError.storageFailed("x").code == "STORAGE_FAILED")
        #expect(SpoolError.storageFailed("x").retryable)
        #expect(SpoolError.transcodeFailed("x").code == "TRANSCODE_FAILED")
        #expect(!SpoolError.transcodeFailed("x").retryable)
        #expect(SpoolError.unsupportedSource("x").code == "UNSUPPORTED_SOURCE")
        #expect(SpoolError.internalError("x").code == "INTERNAL_ERROR")
        #expect(SpoolError.invalidURL("x").description == "INVALID_URL: x")
    }
}

// MARK: - FrameEncoder

@Suite struct FrameEncoderUnitTests {
    private struct Payload: Encodable {
        let at: Date
        let path: String
        let count: Int
        let missing: String?
    }

    /// 2023-11-14T22:13:20.250Z
    private let date = Date(timeIntervalSince1970: 1_700_000_000.25)

    @Test func frameWithIdSortsKeysAndUsesISODates() {
        let text = FrameEncoder().frame(type: "pong", id: "r-1", payload: Payload(at: date, path: "/files/a/b", count: 3, missing: nil))
        #expect(text == #"{"id":"r-1","payload":{"at":"2023-11-14T22:13:20.250Z","count":3,"path":"/files/a/b"},"type":"pong"}"#)
    }

    @Test func frameWithoutIdLeavesItOut() {
        let text = FrameEncoder().frame(type: "progress_update", payload: ["seq": 2])
        #expect(text == #"{"payload":{"seq":2},"type":"progress_update"}"#)
    }

    @Test func encodeUsesTheSameConventions() throws {
        let data = try FrameEncoder().encode(["when": date])
        #expect(String(decoding: data, as: UTF8.self) == #"{"when":"2023-11-14T22:13:20.250Z"}"#)
    }

    @Test func eventPayloadLeavesAbsentFieldsOut() throws {
        var job = Job(id: JobID(rawValue: "00000000-0000-0000-0000-00000000000a"), options: ConversionOptions(url: "https://e.com/a", format: .mp3, quality: .audioBitrate(kbps: 128)), createdAt: date)
        job.seq = 1
        job.queuePosition = 2
        let started = FrameEncoder().frame(type: "conversion_started", payload: EventPayload(job: job, kind: .started, at: date))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(started.utf8)) as? [String: Any])
        let payload = try #require(object["payload"] as? [String: Any])
        #expect(object["type"] as? String == "conversion_started")
        #expect(payload["jobId"] as? String == "00000000-0000-0000-0000-00000000000a")
        #expect(payload["url"] as? String == "https://e.com/a")
        #expect(payload["quality"] as? String == "128")
        #expect(payload["queuePosition"] as? Int == 2)
        #expect(payload["createdAt"] as? String == "2023-11-14T22:13:20.250Z")
        #expect(payload["error"] == nil)
        #expect(payload["downloadUrl"] == nil)

        let progress = FrameEncoder().frame(type: "progress_update", payload: EventPayload(job: job, kind: .progress, at: date))
        #expect(!progress.contains("\"url\""))
        #expect(!progress.contains("createdAt"))
    }

    @Test func completedPayloadHasAnEncodedDownloadURL() throws {
        var job = Job(id: JobID(rawValue: "00000000-0000-0000-0000-00000000000b"), options: ConversionOptions(url: "https://e.com/a", format: .mp3, quality: .audioBitrate(kbps: 192)), createdAt: date)
        job.status = .completed
        job.result = JobResult(filename: "Café ☕.mp3", sizeBytes: 10, durationSeconds: 1, mimeType: "audio/mpeg", videoCodec: nil, audioCodec: "mp3", height: nil, bitRate: nil, remuxed: false)
        let payload = EventPayload(job: job, kind: .completed, at: date)
        #expect(payload.downloadUrl == "/files/00000000-0000-0000-0000-00000000000b/Caf%C3%A9%20%E2%98%95.mp3")
        #expect(payload.filename == "Café ☕.mp3")
        #expect(payload.metadata?.sourceUrl == "https://e.com/a")
        #expect(payload.queuePosition == nil)
    }
}

// MARK: - Hand-written event frames

/// Job event frames are written by hand on the hot path; they must be exactly what `JSONEncoder`
/// writes, for every field present or absent and every awkward character or number.
@Suite struct HandWrittenFrameUnitTests {
    static let texts = [
        "Downloading 18.2 MB of 40 MB", "", "quote \" backslash \\ slash / done", "line\nbreak\ttab\r\u{08}\u{0C}",
        "control \u{01}\u{1F}\u{1B}\u{00} end", "Ünïcödé — 日本語 😀 \u{2028}\u{7F}", "https://example.com/a/b?c=d&e=%20#f",
    ]
    static let numbers: [Double] = [0, 0.1, 1, 12.5, 33.3, 66.7, 99.9, 100, 4.35, 1e15, 1e16, 1.5e16, 123_456_789_012, 9_007_199_254_740_992, 9_007_199_254_740_994, 0.000123, 1e-5, 1e21]

    private func job() -> Job {
        var job = Job(
            id: JobID(rawValue: "00000000-0000-0000-0000-0000000000c1"),
            options: ConversionOptions(url: "https://e.com/v.mp4", format: .mp4, quality: .maxHeight(720)),
            createdAt: Date(timeIntervalSince1970: 1_790_000_000.123)
        )
        job.status = .running
        job.step = .download
        job.progress = 33.3
        job.message = "Downloading"
        return job
    }

    private func expectSame(_ payload: EventPayload, type: String = "progress_update", id: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let encoder = FrameEncoder()
        let handWritten = payload.handWrittenFrame(type: type, id: id)
        #expect(handWritten == encoder.encodedFrame(type: type, id: id, payload: payload), sourceLocation: sourceLocation)
        #expect(encoder.frame(type: type, id: id, payload: payload) == encoder.encodedFrame(type: type, id: id, payload: payload), sourceLocation: sourceLocation)
    }

    @Test func everyKindOfEventMatchesJSONEncoder() {
        for kind in [JobEvent.Kind.started, .progress, .cancelled] {
            for status in [JobStatus.queued, .running, .cancelled] {
                var job = job()
                job.status = status
                job.queuePosition = status == .queued ? 3 : nil
                expectSame(EventPayload(job: job, kind: kind, live: LiveProgress(speedBytesPerSecond: 1_234_567, etaSeconds: 42), at: Date()), type: kind.rawValue)
                expectSame(EventPayload(job: job, kind: kind, at: Date(timeIntervalSince1970: 0)), type: kind.rawValue, id: "req-1")
            }
        }
    }

    @Test(arguments: texts)
    func everyStringFieldMatches(_ text: String) {
        var payload = EventPayload(job: job(), kind: nil, at: Date(timeIntervalSince1970: 1_800_000_000.999))
        payload.message = text
        payload.title = text
        payload.thumbnailUrl = text
        payload.url = text
        payload.filename = text
        payload.downloadUrl = text
        payload.jobId = text
        expectSame(payload, type: "job_state", id: text)
    }

    @Test(arguments: numbers)
    func everyNumberFieldMatches(_ number: Double) {
        var payload = EventPayload(job: job(), kind: .progress, at: Date(timeIntervalSince1970: 1_700_000_000.5))
        payload.progress = number
        payload.etaSeconds = number
        payload.speedBytesPerSecond = number
        payload.durationSeconds = -number
        payload.seq = Int(number.truncatingRemainder(dividingBy: 1e12))
        payload.queuePosition = Int(number.truncatingRemainder(dividingBy: 1000))
        payload.resync = number > 50
        expectSame(payload)
    }

    @Test func nestedValuesAndOddNumbersAreLeftToJSONEncoder() {
        var payload = EventPayload(job: job(), kind: .progress, at: Date())
        payload.error = .badMessage("no")
        #expect(payload.handWrittenFrame(type: "conversion_failed", id: nil) == nil)
        expectSame(EventPayload(job: job(), kind: .progress, at: Date()))
        payload.error = nil
        payload.speedBytesPerSecond = .infinity
        #expect(payload.handWrittenFrame(type: "progress_update", id: nil) == nil)
        #expect(FrameEncoder().frame(type: "progress_update", payload: payload).contains("INTERNAL_ERROR"))
    }
}
