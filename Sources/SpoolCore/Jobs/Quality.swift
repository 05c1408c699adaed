import Foundation

/// What "quality" means for each format: a bitrate for mp3, a maximum height for mp4.
///
/// The allowed values are a closed list so that a typo is an `INVALID_QUALITY` error rather than an
/// odd ffmpeg argument.
public enum Quality: Sendable, Equatable, Hashable {
    /// An mp3 bitrate in kbit/s.
    case audioBitrate(kbps: Int)
    /// The tallest video allowed, or `nil` for the best the source has.
    case maxHeight(Int?)

    public static let audioBitrates = [64, 96, 128, 160, 192, 256, 320]
    public static let videoHeights = [144, 240, 360, 480, 720, 1080, 1440, 2160]

    /// Used when a request names no quality.
    public static func `default`(for format: MediaFormat) -> Quality {
        switch format {
        case .mp3: .audioBitrate(kbps: 192)
        case .mp4: .maxHeight(1080)
        }
    }

    /// Parses the request's quality text ("192", "192k", "720", "720p", "best") for a format.
    public static func parse(_ text: String, for format: MediaFormat) throws(SpoolError) -> Quality {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch format {
        case .mp3:
            let digits = trimmed.hasSuffix("k") ? String(trimmed.dropLast()) : trimmed
            guard let kbps = Int(digits), audioBitrates.contains(kbps) else {
                throw .invalidQuality(text, format: format, allowed: audioBitrates.map(String.init))
            }
            return .audioBitrate(kbps: kbps)
        case .mp4:
            if trimmed == "best" { return .maxHeight(nil) }
            let digits = trimmed.hasSuffix("p") ? String(trimmed.dropLast()) : trimmed
            guard let height = Int(digits), videoHeights.contains(height) else {
                throw .invalidQuality(text, format: format, allowed: videoHeights.map(String.init) + ["best"])
            }
            return .maxHeight(height)
        }
    }

    /// The canonical text form, as stored and shown to clients ("192", "720", "best").
    public var text: String {
        switch self {
        case .audioBitrate(let kbps): String(kbps)
        case .maxHeight(let height): height.map(String.init) ?? "best"
        }
    }
}
