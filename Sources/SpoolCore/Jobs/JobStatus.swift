/// Where a job is in its life. Terminal states never change again.
public enum JobStatus: String, Sendable, Codable {
    case queued
    case running
    case completed
    case failed
    case cancelled

    public var isTerminal: Bool {
        switch self {
        case .completed, .failed, .cancelled: true
        case .queued, .running: false
        }
    }
}

/// The phase a job is in, named in every progress event so a slow phase never looks stuck.
public enum JobStep: String, Sendable, Codable {
    case queued
    case metadata
    case download
    case transcode
    case store
    case completed
    case failed
    case cancelled
}
