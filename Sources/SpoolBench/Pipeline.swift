import ArgumentParser
import Foundation
import NIOCore
import SpoolCore

/// A conversion through Spool against the same tool command lines run by hand.
struct Pipeline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Wall time of a Spool conversion (real yt-dlp + ffmpeg) against the bare tools; medians of interleaved runs."
    )
    @OptionGroup var server: ServerOptions
    @Option(help: "Runs per format and side.") var runs = 5
    @Option(help: "Length of the generated source, seconds.") var sourceSeconds = 300
    @Option(help: "Where the generated source is kept between runs.") var cache = "/tmp/spool-bench-cache"
    @Option(help: "Port of the loopback file server (python3 -m http.server).") var filePort = 18181
    @Option(help: "Conversions to time, format:quality, comma-separated.") var cases = "mp3:192,mp4:720"
    @Option(help: "yt-dlp for the by-hand side.") var ytdlp = "yt-dlp"
    @Option(help: "ffmpeg for the by-hand side.") var ffmpeg = "ffmpeg"
    @Option(help: "ffprobe for the by-hand side.") var ffprobe = "ffprobe"

    func run() async throws {
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let name = "source-\(sourceSeconds)s.mp4"
        let sourcePath = cache + "/" + name
        if !FileManager.default.fileExists(atPath: sourcePath) {
            log("generating a \(sourceSeconds) s 640x360 H.264/AAC source (once; cached in \(cache))")
            let status = try runTool(
                resolve(ffmpeg),
                [
                    "-hide_banner", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30", "-f", "lavfi", "-i",
                    "sine=frequency=440:sample_rate=44100", "-t", "\(sourceSeconds)", "-c:v", "libx264", "-preset", "veryfast",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", sourcePath + ".tmp.mp4",
                ]
            )
            guard status == 0 else { throw BenchError("source generation failed") }
            try FileManager.default.moveItem(atPath: sourcePath + ".tmp.mp4", toPath: sourcePath)
        }
        let fileServer = Process()
        fileServer.executableURL = URL(fileURLWithPath: try resolve("python3"))
        fileServer.arguments = ["-m", "http.server", "\(filePort)", "--bind", "127.0.0.1", "--directory", cache]
        fileServer.standardOutput = FileHandle.nullDevice
        fileServer.standardError = FileHandle.nullDevice
        try fileServer.run()
        // SIGKILL, not terminate(): a child Foundation.Process starts from async code has SIGTERM
        // blocked (DEVELOPERS.md), so python would never exit and waitUntilExit() would spin.
        defer {
            kill(fileServer.processIdentifier, SIGKILL)
            fileServer.waitUntilExit()
        }
        let url = "http://127.0.0.1:\(filePort)/\(name)"
        for _ in 0..<50 {
            if (try? httpRequest(host: "127.0.0.1", port: filePort, method: "HEAD", path: "/\(name)", timeout: 1))?.status == 200 { break }
            try await Task.sleep(for: .milliseconds(100))
        }

        let client = Client(threads: 1, host: server.host, port: server.port, sources: [])
        let connection = try await client.open(1).first!
        var rows: [(String, String)] = []
        var results: [[String: Any]] = []
        let parsedCases = cases.split(separator: ",").map { $0.split(separator: ":").map(String.init) }
        var spoolTimes: [String: [Double]] = [:]
        var bareTimes: [String: [Double]] = [:]
        for run in 0..<runs {
            for c in parsedCases {
                let key = c.joined(separator: ":")
                let format = MediaFormat(rawValue: c[0])!
                // Interleaved, and the side that goes first alternates, so drift and caches favour neither.
                let order = run % 2 == 0 ? [true, false] : [false, true]
                for spool in order {
                    if spool {
                        let t = try await timeSpool(connection, url: url, format: c[0], quality: c[1])
                        spoolTimes[key, default: []].append(t)
                        log("run \(run + 1) \(key) spool \(fmt(t, 3)) s")
                    } else {
                        let t = try timeBare(url: url, format: format, quality: c[1])
                        bareTimes[key, default: []].append(t)
                        log("run \(run + 1) \(key) bare  \(fmt(t, 3)) s")
                    }
                }
            }
        }
        await client.close([connection])
        await client.shutdown()
        for c in parsedCases {
            let key = c.joined(separator: ":")
            let s = median(spoolTimes[key] ?? []), b = median(bareTimes[key] ?? [])
            let ratio = s / b
            // Each run's two sides ran back to back, so their ratio cancels most of the machine's
            // drift; its median is steadier than the ratio of two medians.
            let paired = median(zip(spoolTimes[key] ?? [], bareTimes[key] ?? []).map { $0 / $1 })
            rows.append((key, "spool \(fmt(s, 3)) s, bare tools \(fmt(b, 3)) s, ratio \(fmt(ratio, 4)) (\(fmt((ratio - 1) * 100, 2)) %)"))
            rows.append(("  paired ratio", "median of the runs' own ratios \(fmt(paired, 4)) (\(fmt((paired - 1) * 100, 2)) %)"))
            rows.append(("  runs spool", (spoolTimes[key] ?? []).map { fmt($0, 3) }.joined(separator: " ")))
            rows.append(("  runs bare", (bareTimes[key] ?? []).map { fmt($0, 3) }.joined(separator: " ")))
            results.append([
                "case": key, "spool_median_s": s, "bare_median_s": b, "ratio": ratio, "paired_ratio": paired, "spool_runs": spoolTimes[key] ?? [],
                "bare_runs": bareTimes[key] ?? [],
            ])
        }
        report("pipeline", rows: [("source", "\(sourceSeconds) s 640x360 H.264/AAC, \(runs) runs each")] + rows, json: ["cases": results, "source_seconds": sourceSeconds, "runs": runs])
    }

    private func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    private func timeSpool(_ connection: Connection, url: String, format: String, quality: String) async throws -> Double {
        let clock = ContinuousClock(), start = clock.now
        let terminal = connection.waitTerminal()
        _ = try await connection.start(url: url, format: format, quality: quality).get()
        let kind = try await terminal.get()
        guard kind == .completed else { throw BenchError("spool conversion ended \(kind): \(try await connection.snapshot().get().lastText)") }
        return (clock.now - start).seconds
    }

    /// The pipeline's five command lines, exactly as ConversionPipeline builds them (tools on PATH).
    private func timeBare(url: String, format: MediaFormat, quality qualityText: String) throws -> Double {
        let quality = try Quality.parse(qualityText, for: format)
        let selector = FormatSelector.expression(for: format, quality: quality)
        let dir = NSTemporaryDirectory() + "spool-bare-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ytdlp = try resolve(self.ytdlp), ffmpeg = try resolve(self.ffmpeg), ffprobe = try resolve(self.ffprobe)
        let clock = ContinuousClock(), start = clock.now
        let info = dir + "/info.json"
        guard try runTool(ytdlp, ["-J", "--no-playlist", "--no-warnings", "--no-colors", "--no-cache-dir", "--socket-timeout", "30", "-f", selector, "--", url], stdout: info) == 0 else {
            throw BenchError("yt-dlp -J failed")
        }
        guard try runTool(ytdlp, [
            "--load-info-json", info, "--no-playlist", "--no-warnings", "--no-colors", "--no-cache-dir", "--no-mtime",
            "--newline", "--progress", "--progress-template", YtDlpProgressParser.template,
            "--socket-timeout", "30", "-f", selector, "-o", dir + "/source.%(ext)s",
        ], workingDirectory: dir) == 0 else { throw BenchError("yt-dlp download failed") }
        let downloaded = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("source.") }.sorted().first.map { dir + "/" + $0 }
        guard let downloaded else { throw BenchError("no download") }
        let probeJSON = dir + "/probe.json"
        guard try runTool(ffprobe, ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", "file:" + downloaded], stdout: probeJSON) == 0 else {
            throw BenchError("ffprobe failed")
        }
        let mediaInfo = try MediaInfo.parse(ffprobeJSON: Data(contentsOf: URL(fileURLWithPath: probeJSON)))
        let plan = try TranscodePlan.make(for: mediaInfo, format: format, quality: quality)
        let metadata = try SourceMetadata.parse(ytDlpJSON: Data(contentsOf: URL(fileURLWithPath: info)))
        let output = dir + "/output." + format.fileExtension
        guard try runTool(ffmpeg, plan.ffmpegArguments(input: downloaded, output: output, title: metadata.title, videoPreset: "veryfast")) == 0 else {
            throw BenchError("ffmpeg failed")
        }
        guard try runTool(ffprobe, ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", "file:" + output]) == 0 else {
            throw BenchError("ffprobe of the output failed")
        }
        return (clock.now - start).seconds
    }
}

/// The full path of `command` (a path, or a name on PATH).
func resolve(_ command: String) throws -> String {
    if command.contains("/") { return command }
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
        let path = "\(dir)/\(command)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    throw BenchError("\(command) not found on PATH")
}

/// Runs a tool to completion, stdout to `stdout` (a file) or discarded, stderr discarded.
///
/// `posix_spawn` and a blocking `waitpid`, not `Foundation.Process`: on Linux its
/// `waitUntilExit()` spins a run loop and kept most of a core busy for as long as the tool ran,
/// which slowed the very tools being timed and flattered Spool by several per cent. The child
/// gets an empty signal mask, as Spool's tools do.
@discardableResult
func runTool(_ path: String, _ arguments: [String], stdout: String? = nil, workingDirectory: String? = nil) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))

    var environment = ProcessInfo.processInfo.environment
    environment["PYTHONUNBUFFERED"] = "1"
    environment["PYTHONIOENCODING"] = "utf-8"
    let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
    let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (argv + envp).forEach { free($0) } }

    // Glibc's addchdir file action is not imported; the bench runs one tool at a time, so it moves
    // itself for the spawn instead.
    let previousDirectory = FileManager.default.currentDirectoryPath
    if let workingDirectory { _ = FileManager.default.changeCurrentDirectoryPath(workingDirectory) }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
    if workingDirectory != nil { _ = FileManager.default.changeCurrentDirectoryPath(previousDirectory) }
    guard result == 0 else { throw BenchError("posix_spawn \(path) failed: \(result)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    // WIFEXITED / WEXITSTATUS, which Swift does not import.
    return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}
