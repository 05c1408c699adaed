/// Reads a failed tool's last lines and says, with a stable code, what went wrong.
///
/// The lines themselves go to the server log only: they can hold paths and internal detail, so
/// clients get a fixed sentence per code.
enum ToolErrorClassifier {
    static func ytDlpFailure(_ tail: [String], step: JobStep) -> SpoolError {
        let text = tail.joined(separator: "\n").lowercased()
        if text.contains("unsupported url") || text.contains("no video formats found") || text.contains("no media found") {
            return .notMedia("No audio or video was found at that URL.")
        }
        if text.contains("requested format is not available") {
            return .notMedia("The source offers no format that can be converted.")
        }
        for code in ["http error 404", "http error 410", "404: not found", "410: gone"] where text.contains(code) {
            return .sourceUnavailable("The source was not found (the server answered 404 or 410).")
        }
        for code in ["http error 401", "http error 403", "private video", "sign in", "members-only"] where text.contains(code) {
            return .sourceUnavailable("The source refused access (it may be private or need a login).")
        }
        for code in ["http error 5", "timed out", "connection refused", "name or service not known", "temporary failure", "network is unreachable"]
        where text.contains(code) {
            return .sourceUnavailable("The source could not be reached; try again later.", retryable: true)
        }
        if step == .download { return .downloadFailed("The download failed part way; try again.") }
        return .sourceUnavailable("The source could not be read.", retryable: true)
    }

    static func ffmpegFailure(_ tail: [String]) -> SpoolError {
        let text = tail.joined(separator: "\n").lowercased()
        if text.contains("invalid data found") || text.contains("does not contain any stream") || text.contains("could not find codec") {
            return .notMedia("The downloaded file is not audio or video that can be converted.")
        }
        if text.contains("no space left") { return .storageFailed("The server ran out of disk space.") }
        return .transcodeFailed("The conversion failed; the source may be damaged.")
    }
}
