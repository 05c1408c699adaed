import Foundation
import Testing
@testable import SpoolCore

@Suite struct SourceMetadataParserTests {
    /// A direct file link: the generic extractor knows little, and says `vcodec: null`, no acodec.
    @Test func directFile() throws {
        let metadata = try SourceMetadata.parse(ytDlpJSON: Fixture.data("ytdlp-direct-mp4.json"))
        #expect(metadata.title == "src")
        #expect(metadata.extractor == "generic")
        #expect(metadata.webpageURL?.hasPrefix("http://127.0.0.1:") == true)
        #expect(metadata.webpageURL?.hasSuffix("/src.mp4") == true)
        #expect(metadata.durationSeconds == nil)
        #expect(metadata.thumbnailURL == nil)
        #expect(metadata.uploader == nil)
        #expect(metadata.formatCount == 1)
        #expect(metadata.formats == [SourceMetadata.Format(id: "mp4", ext: "mp4")])
    }

    /// An HLS master playlist: codecs, heights and a duration; "none" marks the missing stream.
    @Test func hlsManifest() throws {
        let metadata = try SourceMetadata.parse(ytDlpJSON: Fixture.data("ytdlp-hls.json"))
        #expect(metadata.title == "master")
        #expect(metadata.extractor == "generic")
        #expect(metadata.durationSeconds == 8)
        #expect(metadata.formatCount == 2)
        #expect(metadata.formats.count == 2)

        let audioOnly = try #require(metadata.formats.first { $0.videoCodec == nil })
        #expect(audioOnly.audioCodec == "mp4a.40.2")
        #expect(audioOnly.height == nil)
        #expect(try Fixture.text("ytdlp-hls.json").contains("\"vcodec\": \"none\""))

        let video = try #require(metadata.formats.first { $0.videoCodec != nil })
        #expect(video.videoCodec?.hasPrefix("avc1.") == true)
        #expect(video.audioCodec == "mp4a.40.2")
        #expect(video.height == 360)
        #expect(video.ext == "mp4")
        #expect(metadata.formats.allSatisfy { !$0.id.isEmpty && $0.fileSize == nil })
    }

    /// A web page with a <video> tag: the html5 extractor, og:title and the poster as thumbnail.
    @Test func htmlPage() throws {
        let metadata = try SourceMetadata.parse(ytDlpJSON: Fixture.data("ytdlp-html5-page.json"))
        #expect(metadata.title.hasPrefix("A 440 Hz test tone"))
        #expect(metadata.extractor == "html5")
        #expect(metadata.thumbnailURL?.hasSuffix("/cover.png") == true)
        #expect(metadata.webpageURL?.hasSuffix("/page.html") == true)
        #expect(metadata.formatCount == 1)
    }

    /// An RSS feed is a playlist even with --no-playlist; Spool refuses it clearly.
    @Test func playlistThrows() throws {
        let json = try Fixture.data("ytdlp-rss-playlist.json")
        let error = try #require(throws: ParseError.self) {
            try SourceMetadata.parse(ytDlpJSON: json)
        }
        #expect(error.message.contains("playlist"))
        #expect(error.message.contains("2 items"))
    }

    @Test func readsLooseValues() throws {
        let json = Data("""
            {"_type": "video", "id": "x1", "title": "Talk", "duration": "61.5", "uploader": "Someone",
             "extractor_key": "Example", "webpage_url": "https://example.com/v/x1",
             "thumbnails": [{"url": "https://example.com/small.jpg"}, {"id": "no-url"}, {"url": "https://example.com/big.jpg"}, {"id": "x"}],
             "formats": [
               {"format_id": 18, "ext": "mp4", "vcodec": "avc1.42001E", "acodec": "mp4a.40.2", "height": 360.0, "filesize": 1000},
               {"format_id": "251", "ext": "webm", "vcodec": "none", "acodec": "opus", "height": null, "filesize_approx": 5e3},
               {"ext": "mhtml"},
               "junk"
             ]}
            """.utf8)
        let metadata = try SourceMetadata.parse(ytDlpJSON: json)
        #expect(metadata == SourceMetadata(
            title: "Talk", durationSeconds: 61.5, thumbnailURL: "https://example.com/big.jpg",
            extractor: "Example", webpageURL: "https://example.com/v/x1", uploader: "Someone",
            formats: [
                .init(id: "18", ext: "mp4", videoCodec: "avc1.42001E", audioCodec: "mp4a.40.2", height: 360, fileSize: 1000),
                .init(id: "251", ext: "webm", videoCodec: nil, audioCodec: "opus", height: nil, fileSize: 5000),
            ]
        ))
    }

    @Test func singleFormatAtTopLevel() throws {
        let json = Data(#"{"id": "a", "title": "T", "format_id": "0", "ext": "mp3", "vcodec": "none", "acodec": "mp3"}"#.utf8)
        let metadata = try SourceMetadata.parse(ytDlpJSON: json)
        #expect(metadata.formats == [.init(id: "0", ext: "mp3", audioCodec: "mp3")])
        #expect(metadata.formatCount == 1)
    }

    @Test(arguments: ["", "ERROR: Unsupported URL", "[]", "{\"title\": ", "{}", "{\"title\": \"\"}"])
    func malformedJSONThrows(text: String) {
        #expect(throws: ParseError.self) {
            try SourceMetadata.parse(ytDlpJSON: Data(text.utf8))
        }
    }

    @Test func roundTripsThroughCodable() throws {
        let metadata = try SourceMetadata.parse(ytDlpJSON: Fixture.data("ytdlp-hls.json"))
        let decoded = try JSONDecoder().decode(SourceMetadata.self, from: JSONEncoder().encode(metadata))
        #expect(decoded == metadata)
    }
}
