import Foundation
import SpoolCore
import SystemPackage

/// Media the end-to-end tests convert, generated once per test process with ffmpeg's `lavfi`
/// sources, so no test ever needs the network.
actor TestMedia {
    static let shared = TestMedia()

    /// The files, each with what it is made of.
    enum Item: String, CaseIterable, Sendable {
        /// 8 s, 640x360, H.264 + AAC.
        case small = "small.mp4"
        /// 6 s, 1280x720, H.264 + AAC: remuxed at 720, re-encoded at 360.
        case hd = "hd.mp4"
        /// 5 s, 640x360, MPEG-4 Part 2 + MP3 in Matroska: always re-encoded.
        case mpeg4 = "mpeg4.mkv"
        /// 40 s, 1280x720, MPEG-4 Part 2 at 3 Mbit/s + MP3: slow to download (throttled) and to re-encode.
        case long = "long.mkv"
        /// Random bytes with a video extension.
        case junk = "junk.mp4"
        /// A web page with no media on it.
        case page = "page.html"

        var durationSeconds: Double {
            switch self {
            case .small: 8
            case .hd: 6
            case .mpeg4: 5
            case .long: 40
            case .junk, .page: 0
            }
        }

        var ffmpegArguments: [String] {
            let tone = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
            func video(_ size: String) -> [String] { ["-f", "lavfi", "-i", "testsrc2=size=\(size):rate=25"] }
            let time = ["-t", String(Int(durationSeconds))]
            switch self {
            case .small: return video("640x360") + tone + time + ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"]
            case .hd: return video("1280x720") + tone + time + ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest"]
            case .mpeg4: return video("640x360") + tone + time + ["-c:v", "mpeg4", "-c:a", "libmp3lame", "-shortest"]
            case .long: return video("1280x720") + tone + time + ["-c:v", "mpeg4", "-b:v", "3M", "-c:a", "libmp3lame", "-shortest"]
            case .junk, .page: return []
            }
        }
    }

    let folder: URL
    /// One generation per item, shared by every test that asks while it runs (suites run in parallel).
    private var generations: [Item: Task<URL, any Error>] = [:]

    private init() {
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("spool-test-media-\(getpid())")
    }

    /// The path of `item`, generating it on first use.
    func path(_ item: Item) async throws -> URL {
        if let generation = generations[item] { return try await generation.value }
        let folder = self.folder
        let generation = Task { try await Self.generate(item, in: folder) }
        generations[item] = generation
        return try await generation.value
    }

    private static func generate(_ item: Item, in folder: URL) async throws -> URL {
        let url = folder.appendingPathComponent(item.rawValue)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        switch item {
        case .junk:
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<300_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try Data(bytes).write(to: url)
        case .page:
            try Data("<!doctype html><html><head><title>No media here</title></head><body><p>Just text.</p></body></html>".utf8).write(to: url)
        default:
            let partial = folder.appendingPathComponent("partial-" + item.rawValue)
            let (outcome, _) = try await ToolRunner(priority: .low).collect("ffmpeg", arguments: ["-v", "error", "-y"] + item.ffmpegArguments + [partial.path])
            guard outcome.succeeded else { throw TestFailure("ffmpeg could not make \(item.rawValue): \(outcome.tail)") }
            try? FileManager.default.removeItem(at: url)
            try FileManager.default.moveItem(at: partial, to: url)
        }
        return url
    }
}

/// A failure with a message, for test helpers.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// ffprobe on a file, through the same parser the server uses.
func probe(_ path: String) async throws -> MediaInfo {
    let (outcome, json) = try await ToolRunner(priority: .low).collect(
        "ffprobe", arguments: ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", path]
    )
    guard outcome.succeeded else { throw TestFailure("ffprobe failed on \(path): \(outcome.tail)") }
    return try MediaInfo.parse(ffprobeJSON: Data(json.utf8))
}
