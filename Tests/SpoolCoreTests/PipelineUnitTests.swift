import Foundation
import Testing
@testable import SpoolCore

// MARK: - FormatSelector

@Suite struct FormatSelectorUnitTests {
    @Test(arguments: [Quality.audioBitrate(kbps: 64), .audioBitrate(kbps: 320)])
    func mp3PrefersAudioOnly(_ quality: Quality) {
        let expression = FormatSelector.expression(for: .mp3, quality: quality)
        let alternatives = expression.split(separator: "/").map(String.init)
        #expect(alternatives.first == "bestaudio")
        #expect(alternatives.last == "best")
        #expect(!expression.contains("height"))
    }

    @Test(arguments: [144, 360, 720, 1080, 2160])
    func mp4FiltersByHeightKeepingUnknownHeights(_ height: Int) {
        let expression = FormatSelector.expression(for: .mp4, quality: .maxHeight(height))
        let alternatives = expression.split(separator: "/").map(String.init)
        #expect(alternatives.first == "bv*[height<=?\(height)][vcodec^=avc1]+ba[acodec^=mp4a]")
        // Every alternative but the last resort carries the height limit, with `?` so unknown heights pass.
        for alternative in alternatives.dropLast() {
            #expect(alternative.contains("[height<=?\(height)]"), "\(alternative)")
        }
        #expect(!expression.contains("[height<=\(height)]"))
        #expect(alternatives.last == "b")
    }

    @Test func mp4BestHasNoHeightFilter() {
        let expression = FormatSelector.expression(for: .mp4, quality: .maxHeight(nil))
        #expect(!expression.contains("height"))
        #expect(expression.hasPrefix("bv*[vcodec^=avc1]+ba[acodec^=mp4a]/"))
        #expect(expression.hasSuffix("/b"))
    }
}

// MARK: - TranscodePlan

@Suite struct TranscodePlanUnitTests {
    private static let h264aac360 = MediaInfo(formatName: "mov,mp4,m4a,3gp,3g2,mj2", durationSeconds: 8, videoCodec: "h264", audioCodec: "aac", width: 640, height: 360)

    @Test func h264AacWithinHeightIsRemuxed() throws {
        let plan = try TranscodePlan.make(for: Self.h264aac360, format: .mp4, quality: .maxHeight(720))
        #expect(plan.video == .copy)
        #expect(plan.audio == .copy)
        #expect(plan.scaleToHeight == nil)
        #expect(plan.isRemux)

        let arguments = plan.ffmpegArguments(input: "/w/src.mp4", output: "/w/out.mp4", title: "Clip", videoPreset: "veryfast")
        #expect(arguments == [
            "-hide_banner", "-nostdin", "-nostats", "-v", "error", "-progress", "pipe:1", "-y", "-i", "file:/w/src.mp4",
            "-map", "0:v:0", "-c:v", "copy", "-map", "0:a:0", "-c:a", "copy", "-movflags", "+faststart",
            "-metadata", "title=Clip", "-f", "mp4", "file:/w/out.mp4",
        ])
    }

    @Test func bestKeepsAnyHeight() throws {
        let tall = MediaInfo(videoCodec: "h264", audioCodec: "aac", width: 3840, height: 2160)
        let plan = try TranscodePlan.make(for: tall, format: .mp4, quality: .maxHeight(nil))
        #expect(plan.video == .copy && plan.scaleToHeight == nil)
    }

    @Test func tooTallIsEncodedAndScaled() throws {
        let tall = MediaInfo(videoCodec: "h264", audioCodec: "aac", width: 1920, height: 1080)
        let plan = try TranscodePlan.make(for: tall, format: .mp4, quality: .maxHeight(480))
        #expect(plan.video == .encode)
        #expect(plan.audio == .copy)
        #expect(plan.scaleToHeight == 480)
        #expect(!plan.isRemux)

        let arguments = plan.ffmpegArguments(input: "in.mp4", output: "out.mp4", title: nil, videoPreset: "fast")
        #expect(arguments.contains(sequence: ["-c:v", "libx264", "-preset", "fast", "-crf", "23", "-pix_fmt", "yuv420p"]))
        #expect(arguments.contains(sequence: ["-vf", "scale=-2:480"]))
        #expect(arguments.contains(sequence: ["-movflags", "+faststart"]))
        #expect(!arguments.contains("-metadata"))
    }

    @Test func vp9OpusIsEncodedWithoutScaling() throws {
        let webm = MediaInfo(formatName: "matroska,webm", videoCodec: "vp9", audioCodec: "opus", width: 640, height: 360)
        let plan = try TranscodePlan.make(for: webm, format: .mp4, quality: .maxHeight(1080))
        #expect(plan.video == .encode)
        #expect(plan.audio == .encode)
        #expect(plan.scaleToHeight == nil)

        let arguments = plan.ffmpegArguments(input: "in.webm", output: "out.mp4", title: "", videoPreset: "veryfast")
        #expect(arguments.contains(sequence: ["-map", "0:a:0", "-c:a", "aac", "-b:a", "160k"]))
        #expect(!arguments.contains("-vf"))
        #expect(!arguments.contains("-metadata"), "an empty title adds no metadata")
    }

    @Test func videoWithoutAudioMapsNoAudio() throws {
        let silent = MediaInfo(videoCodec: "h264", width: 640, height: 360)
        let plan = try TranscodePlan.make(for: silent, format: .mp4, quality: .maxHeight(720))
        #expect(plan.audio == .none)
        let arguments = plan.ffmpegArguments(input: "in", output: "out", title: nil, videoPreset: "veryfast")
        #expect(!arguments.contains("0:a:0"))
    }

    @Test(arguments: [64, 192, 320])
    func mp3EncodesAudioAtTheAskedBitrate(_ kbps: Int) throws {
        let plan = try TranscodePlan.make(for: Self.h264aac360, format: .mp3, quality: .audioBitrate(kbps: kbps))
        #expect(plan.video == .none)
        #expect(plan.audio == .encode)
        #expect(plan.audioBitrateKbps == kbps)

        let arguments = plan.ffmpegArguments(input: "/s/in.m4a", output: "/s/out.mp3", title: "Song", videoPreset: "veryfast")
        #expect(arguments.contains(sequence: ["-progress", "pipe:1"]))
        #expect(arguments.contains(sequence: ["-i", "file:/s/in.m4a"]))
        #expect(arguments.contains(sequence: ["-map", "0:a:0", "-vn", "-c:a", "libmp3lame", "-b:a", "\(kbps)k"]))
        #expect(Array(arguments.suffix(3)) == ["-f", "mp3", "file:/s/out.mp3"])
        #expect(!arguments.contains("+faststart"))
    }

    @Test func pathsAreAlwaysFileURLsEvenWhenTheyLookLikeOptionsOrProtocols() throws {
        let plan = try TranscodePlan.make(for: Self.h264aac360, format: .mp3, quality: .audioBitrate(kbps: 128))
        let arguments = plan.ffmpegArguments(input: "-i", output: "http://evil/x.mp3", title: nil, videoPreset: "veryfast")
        #expect(arguments.contains("file:-i"))
        #expect(arguments.last == "file:http://evil/x.mp3")
        #expect(arguments.filter { $0 == "-i" }.count == 1)
    }

    @Test func mp3FromASourceWithoutAudioIsNotMedia() throws {
        let error = #expect(throws: SpoolError.self) {
            try TranscodePlan.make(for: MediaInfo(videoCodec: "h264", height: 360), format: .mp3, quality: .audioBitrate(kbps: 192))
        }
        #expect(error?.code == "NOT_MEDIA")
    }

    @Test func mp4FromAudioOnlyIsNotMedia() throws {
        let error = #expect(throws: SpoolError.self) {
            try TranscodePlan.make(for: MediaInfo(formatName: "mp3", audioCodec: "mp3"), format: .mp4, quality: .maxHeight(720))
        }
        #expect(error?.code == "NOT_MEDIA")
        let empty = #expect(throws: SpoolError.self) {
            try TranscodePlan.make(for: MediaInfo(), format: .mp4, quality: .maxHeight(nil))
        }
        #expect(empty?.code == "NOT_MEDIA")
    }
}

extension Array where Element: Equatable {
    /// Whether `sequence` occurs in order, contiguously.
    fileprivate func contains(sequence: [Element]) -> Bool {
        guard !sequence.isEmpty, sequence.count <= count else { return sequence.isEmpty }
        return (0...(count - sequence.count)).contains { Array(self[$0..<($0 + sequence.count)]) == sequence }
    }
}

// MARK: - ToolErrorClassifier

@Suite struct ToolErrorClassifierUnitTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let lines: [String]
        let step: JobStep
        let code: String
        let retryable: Bool
        var testDescription: String { "\(code) ← \(lines.last ?? "")" }
    }

    @Test(arguments: [
        Case(
            lines: ["[generic] Extracting URL: https://example.com/missing", "ERROR: [generic] Unable to download webpage: HTTP Error 404: Not Found (caused by <HTTPError 404: Not Found>)"],
            step: .metadata, code: "SOURCE_UNAVAILABLE", retryable: false),
        Case(lines: ["ERROR: [generic] Unable to download webpage: HTTP Error 410: Gone (caused by <HTTPError 410: Gone>)"], step: .metadata, code: "SOURCE_UNAVAILABLE", retryable: false),
        Case(
            lines: ["WARNING: [generic] Falling back on generic information extractor", "ERROR: Unsupported URL: http://example.com/page.html"],
            step: .metadata, code: "NOT_MEDIA", retryable: false),
        Case(lines: ["ERROR: [generic] Unable to download webpage: HTTP Error 403: Forbidden (caused by <HTTPError 403: Forbidden>)"], step: .metadata, code: "SOURCE_UNAVAILABLE", retryable: false),
        Case(lines: ["ERROR: [youtube] abcdefghijk: Private video. Sign in if you've been granted access to this video"], step: .metadata, code: "SOURCE_UNAVAILABLE", retryable: false),
        Case(lines: ["ERROR: [youtube] abcdefghijk: Requested format is not available. Use --list-formats for a list of available formats"], step: .metadata, code: "NOT_MEDIA", retryable: false),
        Case(lines: ["ERROR: [generic] Unable to download webpage: HTTP Error 503: Service Unavailable (caused by <HTTPError 503: Service Unavailable>)"], step: .metadata, code: "SOURCE_UNAVAILABLE", retryable: true),
        Case(lines: ["ERROR: [generic] Unable to download webpage: <urlopen error [Errno -2] Name or service not known> (caused by TransportError('<urlopen error [Errno -2] Name or service not known>'))"], step: .metadata, code: "SOURCE_UNAVAILABLE", retryable: true),
        Case(lines: ["ERROR: [generic] Unable to download webpage: <urlopen error [Errno 111] Connection refused>"], step: .metadata, code: "SOURCE_UNAVAILABLE", retryable: true),
        Case(lines: ["ERROR: [generic] Unable to download webpage: The read operation timed out"], step: .metadata, code: "SOURCE_UNAVAILABLE", retryable: true),
        Case(lines: ["ERROR: [download] Got error: 1234 bytes read, 5678 more expected"], step: .download, code: "DOWNLOAD_FAILED", retryable: true),
        Case(lines: ["ERROR: something unexpected"], step: .metadata, code: "SOURCE_UNAVAILABLE", retryable: true),
        Case(lines: [], step: .download, code: "DOWNLOAD_FAILED", retryable: true),
    ])
    func ytDlp(_ example: Case) {
        let error = ToolErrorClassifier.ytDlpFailure(example.lines, step: example.step)
        #expect(error.code == example.code)
        #expect(error.retryable == example.retryable)
        // The tool's own words (paths, URLs) never reach the client.
        for line in example.lines where !line.isEmpty {
            #expect(!error.message.contains(line))
        }
        #expect(!error.message.contains("example.com"))
    }

    @Test(arguments: [
        (["file:/tmp/x/src.bin: Invalid data found when processing input"], "NOT_MEDIA"),
        (["Output file does not contain any stream"], "NOT_MEDIA"),
        (["Error while writing: No space left on device"], "STORAGE_FAILED"),
        (["Conversion failed!"], "TRANSCODE_FAILED"),
    ])
    func ffmpeg(_ lines: [String], _ code: String) {
        let error = ToolErrorClassifier.ffmpegFailure(lines)
        #expect(error.code == code)
        #expect(!error.message.contains("/tmp/x"))
    }
}

// MARK: - ToolPaths

@Suite struct ToolPathsUnitTests {
    @Test func namesAreLookedUpOnPATH() async {
        #expect(await ToolPaths.isAvailable("sh"))
        #expect(await ToolPaths.isAvailable("/bin/sh"))
        #expect(await !ToolPaths.isAvailable("spool-no-such-tool-\(UUID().uuidString.prefix(8))"))
    }

    @Test func publicNames() {
        let tools = ToolPaths(ytDlp: "/opt/y", ffmpeg: "f", ffprobe: "p")
        #expect(tools.all.map(\.name) == ["yt-dlp", "ffmpeg", "ffprobe"])
        #expect(tools.all.map(\.command) == ["/opt/y", "f", "p"])
    }

    /// "Whether `command` resolves to an executable file now": for a command given as a path,
    /// swift-subprocess's `resolveExecutablePath` returns a path unchecked; `isAvailable` must
    /// still say no for a path to nothing or to a file that is not executable.
    @Test func aPathToNothingIsNotAvailable() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spool-tools-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plainFile = folder + "/not-executable"
        try #require(FileManager.default.createFile(atPath: plainFile, contents: Data("hello".utf8), attributes: [.posixPermissions: 0o644]))

        let missing = await ToolPaths.isAvailable(folder + "/no-such-ffprobe")
        let notExecutable = await ToolPaths.isAvailable(plainFile)
        #expect(!missing)
        #expect(!notExecutable)
    }
}
