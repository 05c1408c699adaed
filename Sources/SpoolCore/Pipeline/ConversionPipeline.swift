import Foundation
import Logging
import SystemPackage

/// Runs one job from URL to stored file: metadata → download → transcode → store.
///
/// Every stage is a real subprocess (``ToolRunner``); cancelling the calling task is the single
/// kill switch: the running tool's process group is torn down, the error surfaces as
/// `CancellationError`, and the job's scratch folder is removed on every way out.
public struct ConversionPipeline: Sendable {
    public struct Settings: Sendable {
        public var tools: ToolPaths
        /// The pace of progress updates per job (the protocol promises about ten a second).
        public var progressInterval: Duration
        /// x264 preset for re-encodes: speed against size.
        public var videoPreset: String
        /// yt-dlp's socket timeout, so a stalled source fails instead of hanging the worker.
        public var socketTimeoutSeconds: Int

        public init(tools: ToolPaths = ToolPaths(), progressInterval: Duration = .milliseconds(100), videoPreset: String = "veryfast", socketTimeoutSeconds: Int = 30) {
            self.tools = tools
            self.progressInterval = progressInterval
            self.videoPreset = videoPreset
            self.socketTimeoutSeconds = socketTimeoutSeconds
        }
    }

    public let settings: Settings
    public let objectStore: LocalObjectStore
    public let processRecords: ProcessRecords
    public let runner: ToolRunner
    public let logger: Logger

    public init(settings: Settings, objectStore: LocalObjectStore, runner: ToolRunner = ToolRunner(), logger: Logger) {
        self.settings = settings
        self.objectStore = objectStore
        self.processRecords = objectStore.processRecords
        self.runner = runner
        self.logger = logger
    }

    /// What a successful run produced.
    public struct Output: Sendable {
        public var source: SourceSummary
        public var result: JobResult
    }

    /// Runs the whole pipeline for `id`. Throws ``SpoolError`` for failures and `CancellationError`
    /// when cancelled.
    public func run(id: JobID, options: ConversionOptions, sink: any ProgressSink) async throws -> Output {
        var logger = self.logger
        logger[metadataKey: "job.id"] = "\(id)"
        let workspace: FilePath
        do {
            workspace = try objectStore.makeWorkspace(for: id)
        } catch {
            throw SpoolError.storageFailed("The server could not create a scratch folder.")
        }
        defer {
            objectStore.removeWorkspace(for: id)
            processRecords.clear(id)
        }

        var meter = ProgressMeter(sink: sink, interval: settings.progressInterval)
        await meter.enter(.metadata, range: PhaseWeights.metadata, message: "Reading the source")
        let (metadata, infoFile, streamCount) = try await readMetadata(options, id: id, workspace: workspace, logger: logger)
        let source = SourceSummary(
            title: metadata.title, durationSeconds: metadata.durationSeconds, thumbnailUrl: metadata.thumbnailURL, extractor: metadata.extractor
        )

        await meter.enter(.download, range: PhaseWeights.download(for: options.format), message: "Downloading", source: source)
        let downloaded = try await download(
            options, id: id, infoFile: infoFile, streamCount: streamCount, workspace: workspace, meter: &meter, logger: logger
        )

        let info = try await probe(downloaded, id: id, logger: logger)
        let plan = try TranscodePlan.make(for: info, format: options.format, quality: options.quality)
        let duration = info.durationSeconds ?? metadata.durationSeconds
        let transcodeStart = meter.overall
        await meter.enter(
            .transcode, range: transcodeStart...PhaseWeights.transcodeEnd,
            message: plan.isRemux ? "Remuxing without re-encoding" : "Converting to \(options.format.rawValue)"
        )
        let output = workspace.appending("output.\(options.format.fileExtension)")
        try await transcode(
            downloaded, to: output, id: id, plan: plan, title: metadata.title, duration: duration, meter: &meter, logger: logger
        )

        await meter.enter(.store, range: PhaseWeights.store, message: "Saving the file")
        let outputInfo = try await probe(output, id: id, logger: logger)
        let filename = SafeFilename.make(title: metadata.title, fileExtension: options.format.fileExtension)
        let stored = try objectStore.store(output, for: id, as: filename)
        let size = (try? FileManager.default.attributesOfItem(atPath: stored.string)[.size] as? NSNumber)?.int64Value
        logger.info("job stored", metadata: ["job.file": "\(stored)", "job.remux": "\(plan.isRemux)"])
        return Output(
            source: source,
            result: JobResult(
                filename: filename,
                sizeBytes: size ?? outputInfo.sizeBytes ?? 0,
                durationSeconds: outputInfo.durationSeconds,
                mimeType: options.format.mimeType,
                videoCodec: outputInfo.videoCodec,
                audioCodec: outputInfo.audioCodec,
                height: outputInfo.height,
                bitRate: options.format == .mp3 ? outputInfo.audioBitRate ?? outputInfo.bitRate : outputInfo.bitRate,
                remuxed: plan.isRemux
            )
        )
    }

    // MARK: Stages

    /// `yt-dlp -J` with the format choice applied: what the source is and which streams will be
    /// fetched. The JSON is kept so the download need not extract again.
    private func readMetadata(
        _ options: ConversionOptions, id: JobID, workspace: FilePath, logger: Logger
    ) async throws -> (SourceMetadata, FilePath, streamCount: Int) {
        let arguments = [
            "-J", "--no-playlist", "--no-warnings", "--no-colors", "--no-cache-dir",
            "--socket-timeout", String(settings.socketTimeoutSeconds),
            "-f", FormatSelector.expression(for: options.format, quality: options.quality), "--", options.url,
        ]
        let (outcome, json) = try await runner.collect(settings.tools.ytDlp, arguments: arguments, onSpawn: recorder(for: id))
        guard outcome.succeeded else {
            logger.warning("yt-dlp metadata failed", metadata: ["tool.status": "\(outcome.status)", "tool.tail": "\(outcome.tail)"])
            throw ToolErrorClassifier.ytDlpFailure(outcome.tail, step: .metadata)
        }
        let metadata: SourceMetadata
        do {
            metadata = try SourceMetadata.parse(ytDlpJSON: Data(json.utf8))
        } catch {
            logger.warning("yt-dlp metadata unreadable", metadata: ["error": "\(error)"])
            throw SpoolError.unsupportedSource("The source is a playlist or something Spool cannot convert; paste a link to one video or track.")
        }
        let infoFile = workspace.appending("info.json")
        guard FileManager.default.createFile(atPath: infoFile.string, contents: Data(json.utf8)) else {
            throw SpoolError.storageFailed("The server could not write to its scratch folder.")
        }
        return (metadata, infoFile, Self.selectedStreamCount(json))
    }

    /// How many streams yt-dlp chose (`"format_id": "137+140"` is two), so download progress can
    /// give each its share.
    static func selectedStreamCount(_ json: String) -> Int {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let formatID = object["format_id"] as? String
        else { return 1 }
        return formatID.split(separator: "+").count
    }

    /// yt-dlp download with machine-readable progress lines; returns the downloaded file.
    private func download(
        _ options: ConversionOptions, id: JobID, infoFile: FilePath, streamCount: Int, workspace: FilePath, meter: inout ProgressMeter,
        logger: Logger
    ) async throws -> FilePath {
        var arguments = [
            "--load-info-json", infoFile.string, "--no-playlist", "--no-warnings", "--no-colors", "--no-cache-dir", "--no-mtime",
            "--newline", "--progress", "--progress-template", YtDlpProgressParser.template,
            "--socket-timeout", String(settings.socketTimeoutSeconds),
            "-f", FormatSelector.expression(for: options.format, quality: options.quality),
            "-o", workspace.appending("source.%(ext)s").string,
        ]
        if settings.tools.ffmpeg.contains("/") { arguments += ["--ffmpeg-location", settings.tools.ffmpeg] }
        let (outcome, lines) = try await runner.stream(
            settings.tools.ytDlp, arguments: arguments, workingDirectory: workspace, onSpawn: recorder(for: id),
            state: (meter: meter, tracker: DownloadTracker(expectedStreams: streamCount))
        ) { lines, line in
            guard let progress = YtDlpProgressParser.parse(line: line) else { return false }
            let fraction = lines.tracker.fraction(after: progress)
            lines.meter.advance(
                fraction: fraction,
                message: lines.tracker.message(for: progress),
                live: LiveProgress(speedBytesPerSecond: progress.speedBytesPerSecond, etaSeconds: progress.etaSeconds),
                force: progress.isFinished
            )
            return true
        }
        meter = lines.meter
        guard outcome.succeeded else {
            logger.warning("yt-dlp download failed", metadata: ["tool.status": "\(outcome.status)", "tool.tail": "\(outcome.tail)"])
            throw ToolErrorClassifier.ytDlpFailure(outcome.tail, step: .download)
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: workspace.string)) ?? []
        let candidates = names.filter { $0.hasPrefix("source.") && !$0.hasSuffix(".part") && !$0.hasSuffix(".ytdl") && !$0.contains(".part-") }
        guard let name = candidates.sorted().first else {
            logger.warning("yt-dlp produced no file", metadata: ["tool.tail": "\(outcome.tail)"])
            throw SpoolError.downloadFailed("The download finished without producing a file.")
        }
        return workspace.appending(name)
    }

    /// ffprobe: the facts that decide the transcode and describe the result.
    private func probe(_ file: FilePath, id: JobID, logger: Logger) async throws -> MediaInfo {
        let arguments = ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", "file:" + file.string]
        let (outcome, json) = try await runner.collect(settings.tools.ffprobe, arguments: arguments, limit: 8 << 20, onSpawn: recorder(for: id))
        guard outcome.succeeded, let info = try? MediaInfo.parse(ffprobeJSON: Data(json.utf8)), info.hasAudio || info.hasVideo else {
            logger.warning("ffprobe found no media", metadata: ["tool.status": "\(outcome.status)", "tool.tail": "\(outcome.tail)"])
            throw SpoolError.notMedia("The URL did not lead to audio or video that can be converted.")
        }
        return info
    }

    /// ffmpeg with `-progress pipe:1`; progress is `out_time` against the source duration.
    private func transcode(
        _ input: FilePath, to output: FilePath, id: JobID, plan: TranscodePlan, title: String, duration: Double?, meter: inout ProgressMeter,
        logger: Logger
    ) async throws {
        let arguments = plan.ffmpegArguments(input: input.string, output: output.string, title: title, videoPreset: settings.videoPreset)
        let verb = plan.isRemux ? "Remuxing" : "Converting"
        let (outcome, lines) = try await runner.stream(
            settings.tools.ffmpeg, arguments: arguments, onSpawn: recorder(for: id), state: (meter: meter, parser: FFmpegProgressParser())
        ) { lines, line in
            guard line.contains("=") else { return false }
            guard let block = lines.parser.consume(line: line) else { return Self.isProgressKey(line) }
            let fraction: Double? =
                if block.isEnd { 1 } else if let time = block.outTimeSeconds, let duration, duration > 0 { time / duration } else { nil }
            var eta: Double?
            if let time = block.outTimeSeconds, let duration, let rate = block.speed, rate > 0, time < duration { eta = (duration - time) / rate }
            lines.meter.advance(
                fraction: fraction, message: Self.transcodeMessage(verb: verb, block: block, duration: duration), live: LiveProgress(etaSeconds: eta),
                force: block.isEnd
            )
            return true
        }
        meter = lines.meter
        guard outcome.succeeded else {
            logger.warning("ffmpeg failed", metadata: ["tool.status": "\(outcome.status)", "tool.tail": "\(outcome.tail)"])
            throw ToolErrorClassifier.ffmpegFailure(outcome.tail)
        }
    }

    /// Records each tool's process group so a restarted server can end what a killed one left.
    private func recorder(for id: JobID) -> (Int32) -> Void {
        { pid in processRecords.record(pid: pid, for: id) }
    }

    private static let progressKeys: Set<Substring> = [
        "frame", "fps", "stream_0_0_q", "stream_0_1_q", "bitrate", "total_size", "out_time_us", "out_time_ms", "out_time", "dup_frames",
        "drop_frames", "speed", "progress",
    ]

    private static func isProgressKey(_ line: String) -> Bool {
        guard let key = line.split(separator: "=", maxSplits: 1).first else { return false }
        return progressKeys.contains(key) || key.hasPrefix("stream_")
    }

    /// "Converting: 1:05 of 5:00 at 3.2×", or less when ffmpeg has not said how far it is.
    static func transcodeMessage(verb: String, block: TranscodeProgress, duration: Double?) -> String {
        let speed = block.speed.map { String(format: " at %.1f×", $0) } ?? ""
        if let time = block.outTimeSeconds, let duration, duration > 0 {
            return "\(verb): \(clock(time)) of \(clock(duration))\(speed)"
        }
        return "\(verb)\(block.outTimeSeconds.map { ": \(clock($0)) done" } ?? "")\(speed)"
    }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.down))
        let (hours, minutes, secs) = (total / 3600, (total % 3600) / 60, total % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }
}
