/// The yt-dlp `-f` expression for a request, chosen so that no byte is downloaded for nothing.
///
/// mp3 wants audio only. mp4 prefers streams an mp4 can hold as they are (H.264 + AAC, no taller
/// than asked) so the transcode step can remux instead of re-encoding; `?` in the filters keeps
/// formats whose height or codec the extractor does not know (direct links), and the last resort
/// `b` accepts anything, which the transcode step then fixes.
public enum FormatSelector {
    public static func expression(for format: MediaFormat, quality: Quality) -> String {
        switch format {
        case .mp3:
            return "bestaudio/best"
        case .mp4:
            let height: String
            if case .maxHeight(let maxHeight?) = quality { height = "[height<=?\(maxHeight)]" } else { height = "" }
            return [
                "bv*\(height)[vcodec^=avc1]+ba[acodec^=mp4a]",
                "b\(height)[vcodec^=avc1][acodec^=mp4a]",
                "bv*\(height)[ext=mp4]+ba[ext=m4a]",
                "b\(height)[ext=mp4]",
                "bv*\(height)+ba",
                "b\(height)",
                "b",
            ].joined(separator: "/")
        }
    }
}
