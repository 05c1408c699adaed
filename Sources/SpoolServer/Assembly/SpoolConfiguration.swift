import Configuration
import Foundation
import Logging
import SpoolCore

/// Every setting Spool reads, with defaults that just work (SQLite and files under `storage/`).
///
/// Read once, in one place, from the command line (`--http-port 9000`) and the environment
/// (`HTTP_PORT=9000`), the command line winning; everything else receives typed values.
public struct SpoolConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Root of the job database, finished files and scratch folders.
    public var storagePath = "storage"
    /// `sqlite` (default) or `memory` (forgets jobs on exit; for throwaway runs).
    public var jobStore = "sqlite"
    /// The web page's folder.
    public var publicPath = "Public"
    public var concurrentJobs = ProcessInfo.processInfo.activeProcessorCount
    public var tools = ToolPaths()
    /// How much CPU the tools may take: `idle` (default) or `low`; see ``ToolPriority``.
    public var toolPriority = ToolPriority.idle
    public var progressInterval: Duration = .milliseconds(100)
    public var videoPreset = "veryfast"
    /// WebSocket ping period; a peer that stops answering is closed.
    public var pingInterval: Duration = .seconds(30)
    /// A WebSocket client whose oldest unsent frame waits this long is closed (code 1008); it resumes with `after`.
    public var stallLimit: Duration = .seconds(30)
    /// Largest client message accepted, in bytes.
    public var maxMessageBytes = 16 * 1024
    public var logLevel: Logger.Level = .info
    /// Most connections held open at once; nil derives it from the open-file limit
    /// (``OpenFileBudget/connectionLimit(openFiles:concurrentJobs:)``).
    public var maxConnections: Int?
    /// Values that could not be used, with what was used instead; logged at start-up.
    public var warnings: [String] = []

    public init() {}

    /// Reads every key; see the README for the list.
    public init(reader: ConfigReader) {
        host = reader.string(forKey: "http.host", default: host)
        port = reader.int(forKey: "http.port", default: port)
        storagePath = reader.string(forKey: "storage.path", default: storagePath)
        jobStore = reader.string(forKey: "storage.jobs", default: jobStore)
        publicPath = reader.string(forKey: "public.path", default: publicPath)
        concurrentJobs = max(1, reader.int(forKey: "jobs.concurrency", default: concurrentJobs))
        tools = ToolPaths(
            ytDlp: reader.string(forKey: "tools.ytdlp", default: tools.ytDlp),
            ffmpeg: reader.string(forKey: "tools.ffmpeg", default: tools.ffmpeg),
            ffprobe: reader.string(forKey: "tools.ffprobe", default: tools.ffprobe)
        )
        let priority = reader.string(forKey: "tools.priority", default: toolPriority.rawValue)
        if let known = ToolPriority(rawValue: priority.lowercased()) {
            toolPriority = known
        } else {
            let choices = ToolPriority.allCases.map(\.rawValue).joined(separator: " or ")
            warnings.append("tools.priority '\(priority)' is not \(choices); using \(toolPriority.rawValue)")
        }
        progressInterval = .milliseconds(max(10, reader.int(forKey: "progress.interval.ms", default: 100)))
        videoPreset = reader.string(forKey: "transcode.preset", default: videoPreset)
        pingInterval = .seconds(max(1, reader.int(forKey: "ws.ping.seconds", default: 30)))
        stallLimit = .seconds(max(1, reader.int(forKey: "ws.stall.seconds", default: 30)))
        maxMessageBytes = max(1024, reader.int(forKey: "ws.max.message.bytes", default: maxMessageBytes))
        logLevel = Logger.Level(rawValue: reader.string(forKey: "log.level", default: "info")) ?? .info
        maxConnections = reader.int(forKey: "http.max.connections").map { max(1, $0) }
    }
}
