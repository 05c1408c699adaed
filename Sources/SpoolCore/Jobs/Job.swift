import Foundation

/// Everything known about one conversion: what was asked, where it is, and how it ended.
///
/// This is the unit the job store persists and what `GET /api/conversions/{id}` and the
/// `job_state` snapshot return. `seq` is the number of the last event published for the job, so a
/// client holding a snapshot knows which events it has implicitly seen.
public struct Job: Sendable, Equatable, Codable {
    public let id: JobID
    public var options: ConversionOptions
    public var status: JobStatus
    public var step: JobStep
    /// Overall 0...100, weighted by phase; never decreases within one run.
    public var progress: Double
    public var message: String
    public var queuePosition: Int?
    public var seq: Int
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// How many times the job has been started (it rises when a restart re-runs it).
    public var attempts: Int
    public var source: SourceSummary?
    public var result: JobResult?
    public var error: SpoolError?

    public init(id: JobID, options: ConversionOptions, createdAt: Date) {
        self.id = id
        self.options = options
        self.status = .queued
        self.step = .queued
        self.progress = 0
        self.message = "Waiting in the queue"
        self.queuePosition = nil
        self.seq = 0
        self.createdAt = createdAt
        self.attempts = 0
    }

    /// Seconds from creation to start, start to finish, and creation to finish.
    public var metrics: JobMetrics? {
        guard let startedAt, let finishedAt else { return nil }
        return JobMetrics(
            queueSeconds: startedAt.timeIntervalSince(createdAt),
            processSeconds: finishedAt.timeIntervalSince(startedAt),
            totalSeconds: finishedAt.timeIntervalSince(createdAt)
        )
    }
}

/// What the source turned out to be, known once the metadata step has run.
public struct SourceSummary: Sendable, Equatable, Codable {
    public var title: String
    public var durationSeconds: Double?
    public var thumbnailUrl: String?
    public var extractor: String?

    public init(title: String, durationSeconds: Double?, thumbnailUrl: String?, extractor: String?) {
        self.title = title
        self.durationSeconds = durationSeconds
        self.thumbnailUrl = thumbnailUrl
        self.extractor = extractor
    }
}

/// The finished file.
public struct JobResult: Sendable, Equatable, Codable {
    public var filename: String
    public var sizeBytes: Int64
    public var durationSeconds: Double?
    public var mimeType: String
    public var videoCodec: String?
    public var audioCodec: String?
    public var height: Int?
    public var bitRate: Int?
    /// Whether the mp4 was remuxed (stream copy) rather than re-encoded.
    public var remuxed: Bool

    public init(
        filename: String, sizeBytes: Int64, durationSeconds: Double?, mimeType: String, videoCodec: String?, audioCodec: String?,
        height: Int?, bitRate: Int?, remuxed: Bool
    ) {
        self.filename = filename
        self.sizeBytes = sizeBytes
        self.durationSeconds = durationSeconds
        self.mimeType = mimeType
        self.videoCodec = videoCodec
        self.audioCodec = audioCodec
        self.height = height
        self.bitRate = bitRate
        self.remuxed = remuxed
    }
}

/// Where the time went, in seconds.
public struct JobMetrics: Sendable, Equatable, Codable {
    public var queueSeconds: Double
    public var processSeconds: Double
    public var totalSeconds: Double
}
