import Foundation

/// The payload of every job event and of the `job_state` snapshot: one flat shape whose absent
/// fields are left out of the JSON.
///
/// One shape for all of them means a client can render any of these messages with the same code,
/// and a snapshot after a reconnect looks exactly like the latest event it stands in for.
public struct EventPayload: Sendable, Encodable, Equatable {
    public var jobId: String
    public var seq: Int
    public var status: JobStatus
    public var progress: Double
    public var currentStep: JobStep
    public var message: String?
    public var queuePosition: Int?
    public var etaSeconds: Double?
    public var speedBytesPerSecond: Double?
    public var timestamp: Date
    public var title: String?
    public var thumbnailUrl: String?
    public var durationSeconds: Double?
    public var url: String?
    public var format: String?
    public var quality: String?
    public var downloadUrl: String?
    public var filename: String?
    public var metadata: ResultMetadata?
    public var metrics: JobMetrics?
    public var error: SpoolError?
    public var createdAt: Date?
    public var resync: Bool?

    /// Describes the finished file in `conversion_completed`.
    public struct ResultMetadata: Sendable, Encodable, Equatable {
        public var title: String
        public var durationSeconds: Double?
        public var sizeBytes: Int64
        public var format: String
        public var mimeType: String
        public var quality: String
        public var videoCodec: String?
        public var audioCodec: String?
        public var height: Int?
        public var bitRate: Int?
        public var remuxed: Bool
        public var thumbnailUrl: String?
        public var sourceUrl: String
    }

    /// The payload an event of `kind` carries for the job as it is now.
    public init(job: Job, kind: JobEvent.Kind?, live: LiveProgress? = nil, at timestamp: Date) {
        jobId = job.id.rawValue
        seq = job.seq
        status = job.status
        progress = (job.progress * 10).rounded() / 10
        currentStep = job.step
        message = job.message
        queuePosition = job.status == .queued ? job.queuePosition : nil
        etaSeconds = live?.etaSeconds.map { $0.rounded() }
        speedBytesPerSecond = live?.speedBytesPerSecond.map { $0.rounded() }
        self.timestamp = timestamp
        title = job.source?.title
        thumbnailUrl = job.source?.thumbnailUrl
        durationSeconds = job.source?.durationSeconds
        if kind == nil || kind == .started {
            url = job.options.url
            format = job.options.format.rawValue
            quality = job.options.quality.text
            createdAt = job.createdAt
        }
        if let result = job.result, job.status == .completed {
            downloadUrl = DownloadPath.path(for: job.id, filename: result.filename)
            filename = result.filename
            metadata = ResultMetadata(
                title: job.source?.title ?? result.filename,
                durationSeconds: result.durationSeconds,
                sizeBytes: result.sizeBytes,
                format: job.options.format.rawValue,
                mimeType: result.mimeType,
                quality: job.options.quality.text,
                videoCodec: result.videoCodec,
                audioCodec: result.audioCodec,
                height: result.height,
                bitRate: result.bitRate,
                remuxed: result.remuxed,
                thumbnailUrl: job.source?.thumbnailUrl,
                sourceUrl: job.options.url
            )
        }
        if job.status.isTerminal { metrics = job.metrics }
        error = job.error
    }
}

/// Figures that belong to one progress update only (they are not persisted).
public struct LiveProgress: Sendable, Equatable {
    public var speedBytesPerSecond: Double?
    public var etaSeconds: Double?

    public init(speedBytesPerSecond: Double? = nil, etaSeconds: Double? = nil) {
        self.speedBytesPerSecond = speedBytesPerSecond
        self.etaSeconds = etaSeconds
    }
}
