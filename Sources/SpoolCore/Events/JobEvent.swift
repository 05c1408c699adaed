/// One event in a job's life, already encoded as the WebSocket frame every subscriber receives.
///
/// Events are encoded once, when they happen, and the same text goes to every subscriber (and is
/// the `data:` of the SSE fallback), so fan-out costs no JSON work per client.
public struct JobEvent: Sendable, Equatable {
    /// The `type` of the frame.
    public enum Kind: String, Sendable, Codable {
        case started = "conversion_started"
        case progress = "progress_update"
        case completed = "conversion_completed"
        case failed = "conversion_failed"
        case cancelled = "conversion_cancelled"

        public var isTerminal: Bool {
            switch self {
            case .completed, .failed, .cancelled: true
            case .started, .progress: false
            }
        }
    }

    public let jobId: JobID
    public let seq: Int
    public let kind: Kind
    /// The whole frame: `{"type":"…","payload":{…}}`.
    public let frame: String

    public init(jobId: JobID, seq: Int, kind: Kind, frame: String) {
        self.jobId = jobId
        self.seq = seq
        self.kind = kind
        self.frame = frame
    }

    public var isTerminal: Bool { kind.isTerminal }
}
