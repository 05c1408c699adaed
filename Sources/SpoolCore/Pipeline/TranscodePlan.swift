/// What ffmpeg does with a downloaded source, decided from what ffprobe saw in it.
///
/// The point is to never re-encode what is already right: an H.264/AAC source within the asked
/// height is remuxed with stream copy (seconds instead of minutes, and no generation loss).
public struct TranscodePlan: Sendable, Equatable {
    public enum StreamAction: Sendable, Equatable {
        case copy
        case encode
        case none
    }

    public var format: MediaFormat
    public var video: StreamAction
    public var audio: StreamAction
    /// Set when the video must shrink to this height.
    public var scaleToHeight: Int?
    public var audioBitrateKbps: Int

    /// True when nothing is re-encoded.
    public var isRemux: Bool { video != .encode && audio != .encode }

    /// Chooses the plan, or throws `NOT_MEDIA` when the source lacks what the format needs.
    public static func make(for info: MediaInfo, format: MediaFormat, quality: Quality) throws(SpoolError) -> TranscodePlan {
        switch format {
        case .mp3:
            guard info.hasAudio else { throw .notMedia("The source has no audio track to convert to mp3.") }
            let kbps: Int
            if case .audioBitrate(let value) = quality { kbps = value } else { kbps = 192 }
            return TranscodePlan(format: .mp3, video: .none, audio: .encode, scaleToHeight: nil, audioBitrateKbps: kbps)
        case .mp4:
            guard info.hasVideo else { throw .notMedia("The source has no video track; convert it to mp3 instead.") }
            var maxHeight: Int?
            if case .maxHeight(let height) = quality { maxHeight = height }
            let tooTall = maxHeight.map { limit in (info.height ?? 0) > limit } ?? false
            let video: StreamAction = info.videoCodec == "h264" && !tooTall ? .copy : .encode
            let audio: StreamAction = info.hasAudio ? (info.audioCodec == "aac" ? .copy : .encode) : .none
            return TranscodePlan(format: .mp4, video: video, audio: audio, scaleToHeight: tooTall ? maxHeight : nil, audioBitrateKbps: 160)
        }
    }

    /// ffmpeg's arguments: progress on stdout, errors only on stderr, never reads stdin, and the
    /// input and output are plain paths (`file:` so a name can never be read as a protocol).
    public func ffmpegArguments(input: String, output: String, title: String?, videoPreset: String) -> [String] {
        var arguments = ["-hide_banner", "-nostdin", "-nostats", "-v", "error", "-progress", "pipe:1", "-y", "-i", "file:" + input]
        switch format {
        case .mp3:
            arguments += ["-map", "0:a:0", "-vn", "-c:a", "libmp3lame", "-b:a", "\(audioBitrateKbps)k", "-id3v2_version", "3"]
        case .mp4:
            arguments += ["-map", "0:v:0"]
            switch video {
            case .copy: arguments += ["-c:v", "copy"]
            case .encode:
                arguments += ["-c:v", "libx264", "-preset", videoPreset, "-crf", "23", "-pix_fmt", "yuv420p"]
                if let scaleToHeight { arguments += ["-vf", "scale=-2:\(scaleToHeight)"] }
            case .none: break
            }
            switch audio {
            case .copy: arguments += ["-map", "0:a:0", "-c:a", "copy"]
            case .encode: arguments += ["-map", "0:a:0", "-c:a", "aac", "-b:a", "\(audioBitrateKbps)k"]
            case .none: break
            }
            arguments += ["-movflags", "+faststart"]
        }
        if let title, !title.isEmpty { arguments += ["-metadata", "title=\(title)"] }
        arguments += ["-f", format.rawValue, "file:" + output]
        return arguments
    }
}
