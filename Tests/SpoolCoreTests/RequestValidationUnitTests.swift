import Foundation
import Testing
@testable import SpoolCore

/// Runs `body` and returns the `SpoolError` it threw, or records an issue when it threw nothing.
private func spoolError<T>(_ body: () throws(SpoolError) -> T, sourceLocation: SourceLocation = #_sourceLocation) -> SpoolError? {
    do {
        let value = try body()
        Issue.record("expected a SpoolError, got \(value)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

// MARK: - SourceURL

@Suite struct SourceURLUnitTests {
    @Test(arguments: [
        "http://example.com",
        "https://example.com/watch?v=abc&t=10",
        "HTTPS://EXAMPLE.COM/Path",
        "https://user:pass@example.com:8443/a/b.mp4#frag",
        "http://127.0.0.1:9000/file.mp3",
    ])
    func acceptsHTTPAndHTTPS(_ url: String) throws {
        #expect(try SourceURL.validate(url) == url)
    }

    @Test func trimsSurroundingWhitespace() throws {
        #expect(try SourceURL.validate("  https://example.com/a \n") == "https://example.com/a")
    }

    @Test(arguments: [
        "file:///etc/passwd",
        "ftp://example.com/file.mp3",
        "javascript:alert(1)",
        "data:text/html,hi",
        "gopher://example.com",
        "http://",
        "https:///path/only",
        "http:example.com",
        "example.com/no-scheme",
        "",
        "-https://example.com",
        "  -https://example.com",
        "--exec=rm",
        "https://exa mple.com",
        "https://example.com/a b",
        "https://example.com/\u{0}",
        "https://example.com/\ttab",
        "https://example.com/a\nb",
        "https://example.com/\u{7F}",
    ])
    func rejectsEverythingElse(_ url: String) {
        #expect(spoolError { () throws(SpoolError) in try SourceURL.validate(url) }?.code == "INVALID_URL")
    }

    @Test func lengthCapIsInclusive() throws {
        let prefix = "https://example.com/"
        let atLimit = prefix + String(repeating: "a", count: SourceURL.maxLength - prefix.utf8.count)
        #expect(atLimit.utf8.count == 2048)
        #expect(try SourceURL.validate(atLimit) == atLimit)
        let overLimit = atLimit + "a"
        #expect(spoolError { () throws(SpoolError) in try SourceURL.validate(overLimit) }?.code == "INVALID_URL")
    }

    /// "The URL contains spaces or control characters" is checked for U+0020 and category Cc only, so
    /// other Unicode white space in the path or query (which `URLComponents` lets through) is accepted.
    @Test(arguments: ["\u{2028}", "\u{2029}", "\u{3000}", "\u{2003}", "\u{1680}"])
    func unicodeWhitespaceIsRejected(_ space: String) {
        let url = "https://example.com/a\(space)b"
        #expect(spoolError { () throws(SpoolError) in try SourceURL.validate(url) }?.code == "INVALID_URL")
    }

    @Test func errorMessagesNeverEchoTheWholeURL() throws {
        let error = try #require(spoolError { () throws(SpoolError) in try SourceURL.validate("ftp://secret-host.example/x") })
        #expect(error.code == "INVALID_URL")
        #expect(!error.message.contains("secret-host"))
        #expect(error.retryable == false)
    }
}

// MARK: - Quality

@Suite struct QualityUnitTests {
    @Test(arguments: [
        ("64", 64), ("96", 96), ("128", 128), ("160", 160), ("192", 192), ("256", 256), ("320", 320),
        ("192k", 192), ("192K", 192), (" 320k ", 320),
    ])
    func mp3Bitrates(_ text: String, _ kbps: Int) throws {
        #expect(try Quality.parse(text, for: .mp3) == .audioBitrate(kbps: kbps))
    }

    @Test(arguments: [
        ("144", 144), ("240", 240), ("360", 360), ("480", 480), ("720", 720), ("1080", 1080), ("1440", 1440), ("2160", 2160),
        ("720p", 720), ("1080P", 1080),
    ])
    func mp4Heights(_ text: String, _ height: Int) throws {
        #expect(try Quality.parse(text, for: .mp4) == .maxHeight(height))
    }

    @Test(arguments: ["best", "BEST", " Best "])
    func mp4Best(_ text: String) throws {
        let quality = try Quality.parse(text, for: .mp4)
        #expect(quality == .maxHeight(nil))
        #expect(quality.text == "best")
    }

    @Test(arguments: ["999", "191", "0", "-192", "", "k", "abc", "192kbps", "720p", "best", "192 k", "1e3"])
    func invalidForMp3(_ text: String) throws {
        let error = try #require(spoolError { () throws(SpoolError) in try Quality.parse(text, for: .mp3) })
        #expect(error.code == "INVALID_QUALITY")
        #expect(error.details?["allowed"] == "64, 96, 128, 160, 192, 256, 320")
    }

    @Test(arguments: ["999", "721", "192k", "", "p", "4k", "hd", "-720", "best quality"])
    func invalidForMp4(_ text: String) throws {
        let error = try #require(spoolError { () throws(SpoolError) in try Quality.parse(text, for: .mp4) })
        #expect(error.code == "INVALID_QUALITY")
        #expect(error.details?["allowed"]?.hasSuffix("2160, best") == true)
    }

    @Test func defaultsAndCanonicalText() {
        #expect(Quality.default(for: .mp3) == .audioBitrate(kbps: 192))
        #expect(Quality.default(for: .mp4) == .maxHeight(1080))
        #expect(Quality.audioBitrate(kbps: 192).text == "192")
        #expect(Quality.maxHeight(720).text == "720")
    }
}

// MARK: - ConversionRequest

@Suite struct ConversionRequestUnitTests {
    private func decode(_ json: String) throws -> ConversionRequest {
        try JSONDecoder().decode(ConversionRequest.self, from: Data(json.utf8))
    }

    @Test func decodesAllFields() throws {
        let request = try decode(#"{"url":"https://example.com/v","format":"mp4","quality":"720p","platform":"web"}"#)
        #expect(request == ConversionRequest(url: "https://example.com/v", format: "mp4", quality: "720p", platform: "web"))
    }

    @Test func numericQualityIsAccepted() throws {
        let request = try decode(#"{"url":"https://example.com/a","format":"mp3","quality":192}"#)
        #expect(request.quality == "192")
        #expect(try request.validated().quality == .audioBitrate(kbps: 192))
    }

    @Test func nullQualityMeansDefault() throws {
        let request = try decode(#"{"url":"https://example.com/a","format":"mp3","quality":null}"#)
        #expect(request.quality == nil)
        #expect(try request.validated().quality == .audioBitrate(kbps: 192))
    }

    @Test(arguments: [#"{"url":"https://e.com","format":"mp3","quality":192.5}"#, #"{"url":"https://e.com","format":"mp3","quality":true}"#, #"{"url":"https://e.com","format":"mp3","quality":[192]}"#])
    func nonStringNonIntegerQualityIsBadMessage(_ json: String) {
        let error = #expect(throws: SpoolError.self) { try decode(json) }
        #expect(error?.code == "BAD_MESSAGE")
    }

    @Test func missingURL() throws {
        let request = try decode(#"{"format":"mp3"}"#)
        let error = try #require(spoolError { () throws(SpoolError) in try request.validated() })
        #expect(error.code == "MISSING_FIELD")
        #expect(error.details == ["field": "url"])
    }

    @Test func emptyURLCountsAsMissing() throws {
        let error = try #require(spoolError { () throws(SpoolError) in try ConversionRequest(url: "", format: "mp3").validated() })
        #expect(error.code == "MISSING_FIELD")
        #expect(error.details?["field"] == "url")
    }

    @Test func missingFormat() throws {
        let request = try decode(#"{"url":"https://example.com/a"}"#)
        let error = try #require(spoolError { () throws(SpoolError) in try request.validated() })
        #expect(error.code == "MISSING_FIELD")
        #expect(error.details == ["field": "format"])
    }

    @Test(arguments: ["ogg", "wav", "mp5", "video/mp4"])
    func unknownFormat(_ format: String) throws {
        let error = try #require(spoolError { () throws(SpoolError) in
            try ConversionRequest(url: "https://example.com/a", format: format).validated()
        })
        #expect(error.code == "UNSUPPORTED_FORMAT")
        #expect(error.details?["allowed"] == "mp3, mp4")
    }

    @Test func invalidURLIsReportedBeforeFormat() throws {
        let error = try #require(spoolError { () throws(SpoolError) in
            try ConversionRequest(url: "file:///etc/passwd", format: "ogg").validated()
        })
        #expect(error.code == "INVALID_URL")
    }

    @Test func invalidQuality() throws {
        let error = try #require(spoolError { () throws(SpoolError) in
            try ConversionRequest(url: "https://example.com/a", format: "mp3", quality: "999").validated()
        })
        #expect(error.code == "INVALID_QUALITY")
    }

    @Test func defaults() throws {
        let mp3 = try ConversionRequest(url: " https://example.com/a ", format: "MP3").validated()
        #expect(mp3 == ConversionOptions(url: "https://example.com/a", format: .mp3, quality: .audioBitrate(kbps: 192)))
        let mp4 = try ConversionRequest(url: "https://example.com/v", format: "mp4").validated()
        #expect(mp4.format == .mp4)
        #expect(mp4.quality == .maxHeight(1080))
    }

    @Test func platformIsCappedAt64Characters() throws {
        let options = try ConversionRequest(url: "https://e.com/a", format: "mp3", platform: String(repeating: "x", count: 200)).validated()
        #expect(options.platform?.count == 64)
    }

    @Test func optionsRoundTripThroughJSON() throws {
        let options = ConversionOptions(url: "https://e.com/v", format: .mp4, quality: .maxHeight(nil), platform: "ios")
        let data = try JSONEncoder().encode(options)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["quality"] as? String == "best")
        #expect(try JSONDecoder().decode(ConversionOptions.self, from: data) == options)
    }
}

// MARK: - JobID

@Suite struct JobIDUnitTests {
    @Test func acceptsWhatMakeProduces() throws {
        let id = JobID.make()
        #expect(id.rawValue.count == 36)
        #expect(JobID(validating: id.rawValue) == id)
        #expect(JobID(validating: "0f8fad5b-d9cb-469f-a165-70867728950e")?.rawValue == "0f8fad5b-d9cb-469f-a165-70867728950e")
    }

    @Test(arguments: [
        "",
        "not-an-id",
        "0F8FAD5B-D9CB-469F-A165-70867728950E",
        "0f8fad5b-d9cb-469f-a165-70867728950",
        "0f8fad5b-d9cb-469f-a165-70867728950ea",
        "../../../../../../../../../../etc/pa",
        "0f8fad5b/d9cb-469f-a165-70867728950e",
        "0f8fad5b-d9cb-469f-a165-70867728950g",
        "0f8fad5b-d9cb-469f-a165-7086772895é",
        " 0f8fad5b-d9cb-469f-a165-70867728950",
    ])
    func rejects(_ text: String) {
        #expect(JobID(validating: text) == nil)
    }
}

// MARK: - SafeFilename

@Suite struct SafeFilenameUnitTests {
    @Test(arguments: [
        ("My Song", "My Song.mp3"),
        ("AC/DC - Back in Black", "AC DC - Back in Black.mp3"),
        (#"a\b:c*d?e"f<g>h|i"#, "a b c d e f g h i.mp3"),
        ("...hidden", "hidden.mp3"),
        (" . . leading", "leading.mp3"),
        ("trailing...", "trailing.mp3"),
        ("Ünïcödé 日本語 Ελληνικά кириллица", "Ünïcödé 日本語 Ελληνικά кириллица.mp3"),
        ("tab\there\nnew\u{0}line", "tab here new line.mp3"),
        ("many    spaces", "many spaces.mp3"),
        ("Café ☕", "Café.mp3"),
        ("Track (Live) [2024] - Rock & Roll!", "Track (Live) [2024] - Rock & Roll!.mp3"),
        ("", "media.mp3"),
        ("///", "media.mp3"),
        ("...", "media.mp3"),
        ("☕☕☕", "media.mp3"),
    ])
    func makesSafeNames(_ title: String, _ expected: String) {
        let name = SafeFilename.make(title: title, fileExtension: "mp3")
        #expect(name == expected)
        #expect(SafeFilename.isAcceptable(name))
    }

    @Test func extensionIsAppended() {
        #expect(SafeFilename.make(title: "clip", fileExtension: "mp4") == "clip.mp4")
        #expect(SafeFilename.make(title: "", fileExtension: "mp4") == "media.mp4")
    }

    @Test func asciiIsCappedAt120Bytes() {
        let name = SafeFilename.make(title: String(repeating: "a", count: 500), fileExtension: "mp3")
        #expect(name == String(repeating: "a", count: 120) + ".mp3")
    }

    @Test func capNeverSplitsACharacter() {
        // 1 + 3 × 40 = 121 bytes would overflow by one: the whole last character must go.
        let name = SafeFilename.make(title: "a" + String(repeating: "日", count: 100), fileExtension: "mp3")
        #expect(name == "a" + String(repeating: "日", count: 39) + ".mp3")
        let base = name.dropLast(4)
        #expect(base.utf8.count == 118)

        let twoByte = SafeFilename.make(title: String(repeating: "é", count: 100), fileExtension: "mp3")
        #expect(twoByte == String(repeating: "é", count: 60) + ".mp3")
    }

    @Test(arguments: ["日本語の長いタイトル", "éàü", "Ελληνικά", "кириллица", "a日é"])
    func capHoldsForAnyScript(_ unit: String) {
        let title = String(repeating: unit + " ", count: 200)
        let name = SafeFilename.make(title: title, fileExtension: "mp3")
        let base = String(name.dropLast(4))
        #expect(base.utf8.count <= SafeFilename.maxBaseBytes)
        #expect(base.utf8.count > SafeFilename.maxBaseBytes - 30)
        #expect(title.hasPrefix(base))
        #expect(SafeFilename.isAcceptable(name))
    }

    @Test(arguments: ["track.mp3", "Café ☕.mp3", "a..b.mp4", "x"])
    func acceptable(_ name: String) {
        #expect(SafeFilename.isAcceptable(name))
    }

    @Test(arguments: ["", "../x", "..", ".", "a/b", "/etc/passwd", "a\\b", ".hidden", "a\u{0}b", "a\nb", String(repeating: "a", count: 256)])
    func notAcceptable(_ name: String) {
        #expect(!SafeFilename.isAcceptable(name))
    }

    /// "Letters and digits of any script are kept", but combining marks that are not themselves
    /// `Alphabetic` (the Devanagari virama, the combining acute of decomposed text, Thai tone marks)
    /// are replaced by spaces, which splits words apart.
    @Test(arguments: [
        ("नमस्ते", "नमस्ते.mp3"),
        ("Cafe\u{301}", "Caf\u{E9}.mp3"),
        ("ไม่", "ไม่.mp3"),
    ])
    func combiningMarksAreKept(_ title: String, _ expected: String) {
        #expect(SafeFilename.make(title: title, fileExtension: "mp3") == expected)
    }

    /// The byte cap is applied before leading dots are dropped, so a long run of leading dots
    /// uses up the whole budget and the real title is lost.
    @Test func leadingDotsDoNotUseUpTheBudget() {
        #expect(SafeFilename.make(title: String(repeating: ".", count: 130) + "Song", fileExtension: "mp3") == "Song.mp3")
    }
}
