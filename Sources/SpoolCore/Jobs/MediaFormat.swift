/// The output formats Spool produces.
public enum MediaFormat: String, Sendable, Codable, CaseIterable {
    case mp3
    case mp4

    /// The file extension of the finished file.
    public var fileExtension: String { rawValue }

    /// The `Content-Type` a download of this format is served with.
    public var mimeType: String {
        switch self {
        case .mp3: "audio/mpeg"
        case .mp4: "video/mp4"
        }
    }
}
