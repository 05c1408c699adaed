import Foundation

/// What ffprobe says about a file (`ffprobe -v error -print_format json -show_format -show_streams FILE`).
///
/// Kept to what ``TranscodePlan`` needs to decide between stream copy and re-encoding, plus the
/// figures shown to the user. Cover art matters here: an mp3 with a picture has an `mjpeg` "video"
/// stream marked `disposition.attached_pic`, and treating it as video would make an audio file
/// look convertible to mp4.
public struct MediaInfo: Sendable, Equatable, Codable {
    /// ffprobe's `format_name`, a comma-separated list for multi-name demuxers (`mov,mp4,m4a,3gp,3g2,mj2`).
    public var formatName: String?
    public var durationSeconds: Double?
    public var sizeBytes: Int64?
    /// Overall bit rate in bits per second.
    public var bitRate: Int?
    /// The first video stream's codec_name, ignoring attached pictures.
    public var videoCodec: String?
    /// The first audio stream's codec_name.
    public var audioCodec: String?
    public var width: Int?
    public var height: Int?
    /// The first audio stream's bit rate in bits per second; Matroska/WebM often do not record one.
    public var audioBitRate: Int?

    public var hasVideo: Bool { videoCodec != nil }
    public var hasAudio: Bool { audioCodec != nil }

    public init(
        formatName: String? = nil,
        durationSeconds: Double? = nil,
        sizeBytes: Int64? = nil,
        bitRate: Int? = nil,
        videoCodec: String? = nil,
        audioCodec: String? = nil,
        width: Int? = nil,
        height: Int? = nil,
        audioBitRate: Int? = nil
    ) {
        self.formatName = formatName
        self.durationSeconds = durationSeconds
        self.sizeBytes = sizeBytes
        self.bitRate = bitRate
        self.videoCodec = videoCodec
        self.audioCodec = audioCodec
        self.width = width
        self.height = height
        self.audioBitRate = audioBitRate
    }

    /// Parses ffprobe's JSON; throws ``ParseError`` only when the data is not a JSON object.
    ///
    /// An empty object, which is what ffprobe prints for a file it cannot read, gives an empty
    /// `MediaInfo`: the caller then reports "no audio/video track" from ``hasAudio``/``hasVideo``,
    /// a better message for the user than a parse failure.
    public static func parse(ffprobeJSON: Data) throws -> MediaInfo {
        let object = try LooseJSON.object(from: ffprobeJSON, tool: "ffprobe")
        let format = object["format"] as? [String: Any] ?? [:]
        let streams = (object["streams"] as? [Any] ?? []).compactMap { $0 as? [String: Any] }

        let video = streams.first { stream in
            LooseJSON.string(stream["codec_type"]) == "video" && !isAttachedPicture(stream)
        }
        let audio = streams.first { LooseJSON.string($0["codec_type"]) == "audio" }

        return MediaInfo(
            formatName: LooseJSON.string(format["format_name"]),
            // Some containers carry the duration only on their streams.
            durationSeconds: LooseJSON.double(format["duration"])
                ?? video.flatMap { LooseJSON.double($0["duration"]) }
                ?? audio.flatMap { LooseJSON.double($0["duration"]) },
            sizeBytes: LooseJSON.int64(format["size"]),
            bitRate: LooseJSON.int(format["bit_rate"]),
            videoCodec: video.flatMap { LooseJSON.string($0["codec_name"]) },
            audioCodec: audio.flatMap { LooseJSON.string($0["codec_name"]) },
            width: video.flatMap { LooseJSON.int($0["width"]) },
            height: video.flatMap { LooseJSON.int($0["height"]) },
            audioBitRate: audio.flatMap { LooseJSON.int($0["bit_rate"]) }
        )
    }

    private static func isAttachedPicture(_ stream: [String: Any]) -> Bool {
        let disposition = stream["disposition"] as? [String: Any]
        return LooseJSON.int(disposition?["attached_pic"]) == 1
    }
}
