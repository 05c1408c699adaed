/// Reads the progress lines yt-dlp prints when given ``template``.
///
/// yt-dlp's own `[download]  42.0% of ...` line is meant for people: its units, rounding and layout
/// change between versions and with the kind of download. Instead Spool asks yt-dlp, through
/// `--progress-template`, for the raw numbers behind it on one line with a fixed marker, and this
/// parser reads only those lines. Everything else yt-dlp prints on stdout (`[generic] ...`,
/// `[download] Destination: ...`, post-processor notes) is not progress and yields nil.
public enum YtDlpProgressParser {
    /// The first word of every progress line; nothing yt-dlp prints by itself starts with it.
    public static let marker = "spool-dl"

    /// The fields after the marker, in order, as yt-dlp's `progress` dictionary names them.
    static let fields = [
        "status", "downloaded_bytes", "total_bytes", "total_bytes_estimate",
        "speed", "eta", "fragment_index", "fragment_count",
    ]

    /// The value to pass to yt-dlp as `--progress-template` (together with `--newline`, so that each
    /// report is its own line rather than a carriage-return overwrite).
    ///
    /// Fields are separated by single spaces: none of them can contain a space, and yt-dlp prints
    /// `NA` for the ones it does not know (see the fixtures: a download without Content-Length has
    /// `NA` total, estimate and eta; an HLS download has only an estimate, printed as a float).
    public static let template: String =
        "download:" + marker + " " + fields.map { "%(progress.\($0))s" }.joined(separator: " ")

    /// nil for any line that is not one of our progress lines (yt-dlp prints other lines too), and
    /// for a marked line whose numbers do not parse, since a half-understood report is worse than none.
    public static func parse(line: String) -> DownloadProgress? {
        let words = line.split(whereSeparator: \.isWhitespace)
        guard words.count == fields.count + 1, words[0] == marker else { return nil }
        let status = words[1]
        guard
            let downloaded = number(words[2]),
            let total = number(words[3]),
            let estimate = number(words[4]),
            let speed = number(words[5]),
            let eta = number(words[6]),
            let fragmentIndex = number(words[7]),
            let fragmentCount = number(words[8])
        else { return nil }

        let exactTotal = total.map { Int64($0.rounded()) }
        let estimatedTotal = estimate.map { Int64($0.rounded()) }
        return DownloadProgress(
            downloadedBytes: downloaded.map { Int64($0.rounded()) } ?? 0,
            totalBytes: exactTotal ?? estimatedTotal,
            totalIsEstimate: exactTotal == nil && estimatedTotal != nil,
            speedBytesPerSecond: speed,
            etaSeconds: eta,
            fragmentIndex: fragmentIndex.map { Int($0) },
            fragmentCount: fragmentCount.map { Int($0) },
            isFinished: status == "finished"
        )
    }

    /// `.some(nil)` for yt-dlp's "unknown" placeholder, `.some(value)` for a finite, non-negative
    /// number (integers may arrive as `885104.0`), and nil when the word is neither.
    private static func number(_ word: Substring) -> Double?? {
        if word == "NA" || word == "None" { return .some(nil) }
        guard let value = Double(word), value.isFinite, value >= 0, value < 9.0e18 else { return nil }
        return .some(value)
    }
}
