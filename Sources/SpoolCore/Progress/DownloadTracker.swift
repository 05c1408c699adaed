/// Follows yt-dlp across the streams of one download (video then audio, each counted from zero)
/// and turns its reports into one fraction and a human message.
///
/// Each stream gets an equal share: the metadata step knows how many streams the chosen format
/// has (`137+140` is two) but not always their sizes, and an honest, monotonic figure matters more
/// than a perfectly even one.
struct DownloadTracker: Sendable {
    private var finishedStreams = 0
    private var expectedStreams: Int
    private var lastDownloaded: Int64 = 0

    init(expectedStreams: Int) {
        self.expectedStreams = max(1, expectedStreams)
    }

    mutating func fraction(after progress: DownloadProgress) -> Double? {
        if progress.downloadedBytes < lastDownloaded && !progress.isFinished {
            // A new stream began without a "finished" line for the previous one.
            finishedStreams += 1
        }
        lastDownloaded = progress.downloadedBytes
        if finishedStreams >= expectedStreams { expectedStreams = finishedStreams + 1 }
        let streamFraction: Double? = progress.isFinished ? 1 : progress.fraction
        defer {
            if progress.isFinished {
                finishedStreams += 1
                lastDownloaded = 0
            }
        }
        guard let streamFraction else { return nil }
        return (Double(finishedStreams) + streamFraction) / Double(max(expectedStreams, finishedStreams + 1))
    }

    func message(for progress: DownloadProgress) -> String {
        let done = ByteCountText.format(progress.downloadedBytes)
        if progress.isFinished { return "Downloaded \(done)" }
        guard let total = progress.totalBytes, total > 0 else { return "Downloading: \(done)" }
        let of = ByteCountText.format(total)
        return "Downloading: \(done) of \(progress.totalIsEstimate ? "about " : "")\(of)"
    }
}
