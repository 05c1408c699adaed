import Foundation

/// Why a tool's JSON could not be understood; shared by ``SourceMetadata`` and ``MediaInfo``.
///
/// The message is written for the log and the job's error detail, so it says which tool's output
/// was wrong and how, never dumping the output itself (yt-dlp JSON can be megabytes).
public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// What `yt-dlp -J --no-playlist -- URL` says about a source.
///
/// Only the handful of fields Spool shows or reasons about are kept. The JSON is read leniently
/// because its shape varies by extractor: the generic extractor (a direct file link) has no
/// duration, thumbnail or uploader and gives `vcodec: null` with no `acodec` at all, while HLS
/// manifests give codecs and heights per format.
public struct SourceMetadata: Sendable, Equatable, Codable {
    public var title: String
    public var durationSeconds: Double?
    public var thumbnailURL: String?
    public var extractor: String?
    public var webpageURL: String?
    public var uploader: String?
    public var formatCount: Int
    /// The format ids, their ext, vcodec, acodec and height, enough to reason about format choice.
    public var formats: [Format]

    /// One entry of yt-dlp's `formats`.
    public struct Format: Sendable, Equatable, Codable {
        /// yt-dlp's `format_id`, what `-f` accepts.
        public var id: String
        public var ext: String?
        /// nil when yt-dlp says `"none"` (an audio-only format) or does not know.
        public var videoCodec: String?
        /// nil when yt-dlp says `"none"` (a video-only format) or does not know.
        public var audioCodec: String?
        public var height: Int?
        /// `filesize`, else yt-dlp's `filesize_approx`; often unknown before downloading.
        public var fileSize: Int64?

        public init(id: String, ext: String? = nil, videoCodec: String? = nil, audioCodec: String? = nil, height: Int? = nil, fileSize: Int64? = nil) {
            self.id = id
            self.ext = ext
            self.videoCodec = videoCodec
            self.audioCodec = audioCodec
            self.height = height
            self.fileSize = fileSize
        }
    }

    public init(
        title: String,
        durationSeconds: Double? = nil,
        thumbnailURL: String? = nil,
        extractor: String? = nil,
        webpageURL: String? = nil,
        uploader: String? = nil,
        formats: [Format] = []
    ) {
        self.title = title
        self.durationSeconds = durationSeconds
        self.thumbnailURL = thumbnailURL
        self.extractor = extractor
        self.webpageURL = webpageURL
        self.uploader = uploader
        self.formatCount = formats.count
        self.formats = formats
    }

    /// Parses yt-dlp's info JSON.
    ///
    /// `_type == "playlist"` (or `multi_video`) throws: Spool converts single media only, and
    /// `--no-playlist` does not stop every extractor (an RSS feed is always a playlist).
    public static func parse(ytDlpJSON: Data) throws -> SourceMetadata {
        let object = try LooseJSON.object(from: ytDlpJSON, tool: "yt-dlp")
        let type = LooseJSON.string(object["_type"])
        if type == "playlist" || type == "multi_video" {
            let count = (object["entries"] as? [Any])?.count
            throw ParseError(
                "The URL is a playlist\(count.map { " of \($0) items" } ?? ""); Spool converts one video or track at a time."
            )
        }
        guard let title = LooseJSON.string(object["title"]) ?? LooseJSON.string(object["id"]) else {
            throw ParseError("yt-dlp's JSON has neither a title nor an id; it does not describe a media item.")
        }

        let formats: [Format]
        if let list = object["formats"] as? [Any] {
            formats = list.compactMap { ($0 as? [String: Any]).flatMap(format(from:)) }
        } else {
            // Some extractors describe a single format at the top level instead of a list.
            formats = format(from: object).map { [$0] } ?? []
        }

        return SourceMetadata(
            title: title,
            durationSeconds: LooseJSON.double(object["duration"]),
            thumbnailURL: LooseJSON.string(object["thumbnail"]) ?? bestThumbnail(object["thumbnails"]),
            extractor: LooseJSON.string(object["extractor"]) ?? LooseJSON.string(object["extractor_key"]),
            webpageURL: LooseJSON.string(object["webpage_url"]),
            uploader: LooseJSON.string(object["uploader"]) ?? LooseJSON.string(object["channel"]),
            formats: formats
        )
    }

    private static func format(from object: [String: Any]) -> Format? {
        guard let id = LooseJSON.string(object["format_id"]) else { return nil }
        return Format(
            id: id,
            ext: LooseJSON.string(object["ext"]),
            videoCodec: codec(object["vcodec"]),
            audioCodec: codec(object["acodec"]),
            height: LooseJSON.int(object["height"]),
            fileSize: LooseJSON.int64(object["filesize"]) ?? LooseJSON.int64(object["filesize_approx"])
        )
    }

    /// yt-dlp spells "this format has no such stream" as the string `"none"`.
    private static func codec(_ value: Any?) -> String? {
        guard let codec = LooseJSON.string(value), codec != "none" else { return nil }
        return codec
    }

    /// yt-dlp sorts `thumbnails` from worst to best, so the last one with a URL is the one to show.
    private static func bestThumbnail(_ value: Any?) -> String? {
        guard let list = value as? [Any] else { return nil }
        return list.reversed().lazy.compactMap { LooseJSON.string(($0 as? [String: Any])?["url"]) }.first
    }
}

/// Lenient readers for `JSONSerialization` output, shared by the tool-JSON parsers.
///
/// The tools are inconsistent about types (ffprobe prints durations, sizes and bit rates as
/// strings; yt-dlp prints sizes as integers or floats), and on Linux numbers arrive as `NSNumber`,
/// so every reader accepts a number or a numeric string and treats anything else as absent.
enum LooseJSON {
    /// The top-level object, or a ``ParseError`` naming `tool` when the data is not a JSON object.
    static func object(from data: Data, tool: String) throws -> [String: Any] {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ParseError("\(tool) did not print valid JSON (\(data.count) bytes).")
        }
        guard let object = parsed as? [String: Any] else {
            throw ParseError("\(tool) printed JSON that is not an object.")
        }
        return object
    }

    /// A non-empty string; numbers are rendered as text (a `format_id` is sometimes numeric).
    static func string(_ value: Any?) -> String? {
        switch value {
        case let text as String:
            return text.isEmpty ? nil : text
        case let number as NSNumber:
            return number.stringValue
        default:
            return nil
        }
    }

    static func double(_ value: Any?) -> Double? {
        let result: Double?
        switch value {
        case let text as String:
            result = Double(text.trimmingCharacters(in: .whitespaces))
        case let number as NSNumber:
            result = number.doubleValue
        default:
            result = nil
        }
        guard let result, result.isFinite else { return nil }
        return result
    }

    static func int64(_ value: Any?) -> Int64? {
        guard let number = double(value), number > -9.0e18, number < 9.0e18 else { return nil }
        return Int64(number.rounded())
    }

    static func int(_ value: Any?) -> Int? {
        int64(value).flatMap { Int(exactly: $0) }
    }
}
