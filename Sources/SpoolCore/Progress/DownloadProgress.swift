/// One progress report from yt-dlp's downloader.
///
/// yt-dlp knows different things depending on how it downloads: a plain HTTP file with a
/// Content-Length has an exact total; a stream without one has no total at all (only bytes
/// and speed); HLS/DASH fragment downloads have only an estimated total, which is revised after
/// every fragment, plus the fragment index and count. Every field that yt-dlp may leave unknown is
/// therefore optional, and ``fraction`` picks the best figure that is available.
public struct DownloadProgress: Sendable, Equatable {
    public var downloadedBytes: Int64
    /// The exact total, or the estimate when only that is known (see ``totalIsEstimate``).
    public var totalBytes: Int64?
    /// True when ``totalBytes`` is yt-dlp's running estimate rather than a known size. Estimates
    /// move in both directions, so a fraction derived from one can briefly go backwards.
    public var totalIsEstimate: Bool
    public var speedBytesPerSecond: Double?
    public var etaSeconds: Double?
    /// For fragmented downloads: fragments done so far (yt-dlp counts from 0 and ends at `fragmentCount`).
    public var fragmentIndex: Int?
    public var fragmentCount: Int?
    /// yt-dlp's status "finished": this file is complete (a merged download reports this once per stream).
    public var isFinished: Bool

    public init(
        downloadedBytes: Int64,
        totalBytes: Int64? = nil,
        totalIsEstimate: Bool = false,
        speedBytesPerSecond: Double? = nil,
        etaSeconds: Double? = nil,
        fragmentIndex: Int? = nil,
        fragmentCount: Int? = nil,
        isFinished: Bool = false
    ) {
        self.downloadedBytes = downloadedBytes
        self.totalBytes = totalBytes
        self.totalIsEstimate = totalIsEstimate
        self.speedBytesPerSecond = speedBytesPerSecond
        self.etaSeconds = etaSeconds
        self.fragmentIndex = fragmentIndex
        self.fragmentCount = fragmentCount
        self.isFinished = isFinished
    }

    /// 0...1 when it can be known: 1 once finished, else bytes/total, else fragmentIndex/fragmentCount,
    /// else nil (a stream of unknown length: the caller should show activity, not a percentage).
    ///
    /// Clamped, because an estimated total can be lower than what has already arrived.
    public var fraction: Double? {
        if isFinished { return 1 }
        if let totalBytes, totalBytes > 0 {
            return Self.clamp(Double(downloadedBytes) / Double(totalBytes))
        }
        if let fragmentIndex, let fragmentCount, fragmentCount > 0 {
            return Self.clamp(Double(fragmentIndex) / Double(fragmentCount))
        }
        return nil
    }

    private static func clamp(_ value: Double) -> Double {
        min(max(value, 0), 1)
    }
}
