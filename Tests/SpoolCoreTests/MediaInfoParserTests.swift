import Foundation
import Testing
@testable import SpoolCore

@Suite struct MediaInfoParserTests {
    @Test func h264AacMp4() throws {
        let info = try MediaInfo.parse(ffprobeJSON: Fixture.data("ffprobe-src-mp4.json"))
        #expect(info.formatName == "mov,mp4,m4a,3gp,3g2,mj2")
        #expect(info.durationSeconds == 8)
        // The size ffprobe reports (a string in its JSON) is the size of the file yt-dlp downloaded.
        let size = try Fixture.text("src-mp4-size.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(info.sizeBytes == Int64(size))
        #expect(try #require(info.bitRate) > 500_000)
        #expect(info.videoCodec == "h264" && info.audioCodec == "aac")
        #expect(info.width == 640 && info.height == 360)
        #expect((100_000...160_000).contains(try #require(info.audioBitRate)))
        #expect(info.hasVideo && info.hasAudio)
    }

    @Test func mp3CoverArtIsNotVideo() throws {
        let json = try Fixture.data("ffprobe-src-mp3.json")
        // The fixture really has the cover as an mjpeg stream...
        #expect(try Fixture.text("ffprobe-src-mp3.json").contains("\"codec_name\": \"mjpeg\""))
        // ...which MediaInfo must not mistake for video.
        let info = try MediaInfo.parse(ffprobeJSON: json)
        #expect(info.formatName == "mp3")
        #expect(abs(try #require(info.durationSeconds) - 8) < 0.1)
        #expect(info.audioCodec == "mp3")
        #expect(info.audioBitRate == 128_000)
        #expect(info.videoCodec == nil && !info.hasVideo)
        #expect(info.width == nil && info.height == nil)
        #expect(info.hasAudio)
    }

    @Test func vp9OpusWebm() throws {
        let info = try MediaInfo.parse(ffprobeJSON: Fixture.data("ffprobe-src-webm.json"))
        #expect(info.formatName == "matroska,webm")
        #expect(abs(try #require(info.durationSeconds) - 2) < 0.1)
        #expect(info.videoCodec == "vp9" && info.audioCodec == "opus")
        #expect(info.width == 320 && info.height == 180)
        #expect(info.audioBitRate == nil)  // Matroska records no per-stream bit rate
        #expect(try #require(info.sizeBytes) > 0)
    }

    @Test func acceptsNumbersAsNumbersAndSkipsALeadingCover() throws {
        let json = Data("""
            {"streams": [
              {"codec_type": "video", "codec_name": "png", "width": 500, "height": 500, "disposition": {"attached_pic": 1}},
              {"codec_type": "audio", "codec_name": "flac", "bit_rate": 900000.0},
              {"codec_type": "video", "codec_name": "av1", "width": 1920, "height": 1080, "duration": 12.5,
               "disposition": {"attached_pic": 0}}
            ],
             "format": {"format_name": "matroska,webm", "size": 123456789, "bit_rate": "1000"}}
            """.utf8)
        let info = try MediaInfo.parse(ffprobeJSON: json)
        #expect(info == MediaInfo(
            formatName: "matroska,webm", durationSeconds: 12.5, sizeBytes: 123_456_789, bitRate: 1000,
            videoCodec: "av1", audioCodec: "flac", width: 1920, height: 1080, audioBitRate: 900_000
        ))
    }

    /// What ffprobe prints (with exit status 1) for a file it cannot read.
    @Test func emptyObjectMeansNoStreams() throws {
        let info = try MediaInfo.parse(ffprobeJSON: Data("{\n\n}\n".utf8))
        #expect(info == MediaInfo())
        #expect(!info.hasVideo && !info.hasAudio)
    }

    @Test(arguments: ["", "not json", "[1, 2]", "{\"streams\": [", "\"text\""])
    func malformedJSONThrows(text: String) {
        #expect(throws: ParseError.self) {
            try MediaInfo.parse(ffprobeJSON: Data(text.utf8))
        }
    }

    @Test func roundTripsThroughCodable() throws {
        let info = try MediaInfo.parse(ffprobeJSON: Fixture.data("ffprobe-src-mp4.json"))
        let decoded = try JSONDecoder().decode(MediaInfo.self, from: JSONEncoder().encode(info))
        #expect(decoded == info)
    }
}
