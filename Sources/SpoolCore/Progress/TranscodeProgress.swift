/// One block of ffmpeg `-progress pipe:1` output.
///
/// ffmpeg writes a block of `key=value` lines every `-stats_period` (0.5 s by default) and closes
/// it with `progress=continue`, or `progress=end` for the last one. Only the fields Spool uses are
/// kept; each is nil when ffmpeg printed `N/A` (or printed nothing usable), which really happens:
/// `speed=N/A` and `total_size=N/A` at the start of a stream copy, and `total_size=N/A` throughout
/// when the output is not a file.
public struct TranscodeProgress: Sendable, Equatable {
    /// How far into the output ffmpeg has got, from `out_time_us` (or `out_time`).
    ///
    /// nil when `N/A`, and also when negative: a stream copy that starts at a seek point begins at
    /// the preceding keyframe, so ffmpeg's first block can say `out_time=-00:00:00.579922`. A
    /// negative position means "nothing of the wanted output yet", not a usable progress figure.
    public var outTimeSeconds: Double?
    /// Encoding speed relative to real time: `speed=1.5x` gives 1.5. ffmpeg pads it (`speed=   0x`).
    public var speed: Double?
    /// Bytes written so far (`total_size`).
    public var totalSizeBytes: Int64?
    /// `progress=end`: ffmpeg has finished (successfully or not: check its exit status).
    public var isEnd: Bool

    public init(outTimeSeconds: Double? = nil, speed: Double? = nil, totalSizeBytes: Int64? = nil, isEnd: Bool = false) {
        self.outTimeSeconds = outTimeSeconds
        self.speed = speed
        self.totalSizeBytes = totalSizeBytes
        self.isEnd = isEnd
    }

    /// 0...1 of an output expected to last `durationSeconds`, or nil when either side is unknown.
    ///
    /// Clamped, because the last block routinely runs a few milliseconds past the source duration
    /// (encoder padding: 8.02 s of mp3 from an 8 s source).
    public func fraction(ofDuration durationSeconds: Double?) -> Double? {
        if isEnd { return 1 }
        guard let outTimeSeconds, let durationSeconds, durationSeconds > 0 else { return nil }
        return min(max(outTimeSeconds / durationSeconds, 0), 1)
    }
}
