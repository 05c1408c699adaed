/// An error a client sees: a stable machine `code`, a human `message`, and whether trying again
/// may help.
///
/// Shaped like Hummingbird's `FileIO.FileError`: a private enum of kinds and static constructors,
/// so every code in use is listed in one place and clients can rely on the strings.
public struct SpoolError: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    private enum Kind: String, Sendable, Codable {
        case badMessage = "BAD_MESSAGE"
        case unknownType = "UNKNOWN_TYPE"
        case missingField = "MISSING_FIELD"
        case messageTooLarge = "MESSAGE_TOO_LARGE"
        case invalidURL = "INVALID_URL"
        case unsupportedFormat = "UNSUPPORTED_FORMAT"
        case invalidQuality = "INVALID_QUALITY"
        case jobNotFound = "JOB_NOT_FOUND"
        case jobFinished = "JOB_ALREADY_FINISHED"
        case sourceUnavailable = "SOURCE_UNAVAILABLE"
        case notMedia = "NOT_MEDIA"
        case unsupportedSource = "UNSUPPORTED_SOURCE"
        case downloadFailed = "DOWNLOAD_FAILED"
        case transcodeFailed = "TRANSCODE_FAILED"
        case storageFailed = "STORAGE_FAILED"
        case toolMissing = "TOOL_MISSING"
        case interrupted = "INTERRUPTED"
        case internalError = "INTERNAL_ERROR"
    }

    private let kind: Kind
    /// A sentence for people; never contains tool output or server paths.
    public let message: String
    /// Whether the same request may succeed later.
    public let retryable: Bool
    /// Extra structured facts (for example the allowed values of a field).
    public let details: [String: String]?

    private init(_ kind: Kind, _ message: String, retryable: Bool = false, details: [String: String]? = nil) {
        self.kind = kind
        self.message = message
        self.retryable = retryable
        self.details = details
    }

    /// The stable code clients switch on.
    public var code: String { kind.rawValue }
    public var description: String { "\(code): \(message)" }

    // MARK: Request errors

    public static func badMessage(_ reason: String) -> SpoolError { .init(.badMessage, reason) }
    public static func unknownType(_ type: String) -> SpoolError {
        .init(.unknownType, "Unknown message type '\(type.prefix(64))'.", details: ["allowed": "start_conversion, subscribe_job, unsubscribe_job, cancel_job, ping"])
    }
    public static func missingField(_ name: String) -> SpoolError { .init(.missingField, "The field '\(name)' is required.", details: ["field": name]) }
    public static func messageTooLarge(limit: Int) -> SpoolError {
        .init(.messageTooLarge, "The message is larger than \(limit) bytes.", details: ["limit": String(limit)])
    }
    public static func invalidURL(_ reason: String) -> SpoolError { .init(.invalidURL, reason) }
    public static func unsupportedFormat(_ format: String) -> SpoolError {
        .init(.unsupportedFormat, "The format '\(format.prefix(32))' is not supported; use mp3 or mp4.", details: ["allowed": "mp3, mp4"])
    }
    public static func invalidQuality(_ quality: String, format: MediaFormat, allowed: [String]) -> SpoolError {
        .init(
            .invalidQuality,
            "The quality '\(quality.prefix(32))' is not valid for \(format.rawValue); use one of \(allowed.joined(separator: ", ")).",
            details: ["allowed": allowed.joined(separator: ", ")]
        )
    }
    public static func jobNotFound(_ id: String) -> SpoolError { .init(.jobNotFound, "No job with id '\(id.prefix(64))'.") }
    public static func jobFinished(_ status: JobStatus) -> SpoolError {
        .init(.jobFinished, "The job has already \(status.rawValue == "completed" ? "completed" : "ended as \(status.rawValue)").")
    }

    // MARK: Pipeline errors

    public static func sourceUnavailable(_ reason: String, retryable: Bool = false) -> SpoolError {
        .init(.sourceUnavailable, reason, retryable: retryable)
    }
    public static func notMedia(_ reason: String) -> SpoolError { .init(.notMedia, reason) }
    public static func unsupportedSource(_ reason: String) -> SpoolError { .init(.unsupportedSource, reason) }
    public static func downloadFailed(_ reason: String) -> SpoolError { .init(.downloadFailed, reason, retryable: true) }
    public static func transcodeFailed(_ reason: String) -> SpoolError { .init(.transcodeFailed, reason) }
    public static func storageFailed(_ reason: String) -> SpoolError { .init(.storageFailed, reason, retryable: true) }
    public static func toolMissing(_ tool: String) -> SpoolError {
        .init(.toolMissing, "The server cannot run \(tool); ask its operator to install it.", retryable: true)
    }
    public static func interrupted() -> SpoolError {
        .init(.interrupted, "The server stopped while this job was running.", retryable: true)
    }
    public static func internalError(_ reason: String) -> SpoolError { .init(.internalError, reason, retryable: true) }

    // MARK: Codable: the wire form is {code, message, retryable, details?}

    private enum CodingKeys: String, CodingKey { case code, message, retryable, details }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let code = try container.decode(String.self, forKey: .code)
        self.kind = Kind(rawValue: code) ?? .internalError
        self.message = try container.decode(String.self, forKey: .message)
        self.retryable = try container.decodeIfPresent(Bool.self, forKey: .retryable) ?? false
        self.details = try container.decodeIfPresent([String: String].self, forKey: .details)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(message, forKey: .message)
        try container.encode(retryable, forKey: .retryable)
        try container.encodeIfPresent(details, forKey: .details)
    }
}
