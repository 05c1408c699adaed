/// Turns per-phase fractions into one overall figure and paces what reaches the sink.
///
/// Each phase owns a slice of 0...100 (see ``PhaseWeights``). Entering a phase is always reported
/// at once, so the step change is never hidden; progress inside a phase is sent at most once per
/// `interval` (the protocol promises about ten updates a second, not one per tool line). The figure
/// never goes backwards, even when a tool restarts its own count (a second yt-dlp stream, say).
///
/// Phase changes come from the pipeline's task and are awaited; progress inside a phase comes from
/// the event loop reading the tool's output (``ToolOutputChannel``) and is posted without waiting.
struct ProgressMeter: Sendable {
    private let sink: any ProgressSink
    private let interval: Duration
    private let clock = ContinuousClock()
    private var lastSent: ContinuousClock.Instant?
    private var step: JobStep = .queued
    private var range: ClosedRange<Double> = 0...0
    private(set) var overall: Double = 0

    init(sink: any ProgressSink, interval: Duration) {
        self.sink = sink
        self.interval = interval
    }

    /// Starts a phase that spans `range` of the overall figure.
    mutating func enter(_ step: JobStep, range: ClosedRange<Double>, message: String, source: SourceSummary? = nil) async {
        self.step = step
        self.range = max(range.lowerBound, overall)...max(range.upperBound, overall)
        overall = self.range.lowerBound
        lastSent = clock.now
        await sink.report(ProgressUpdate(step: step, progress: overall, message: message, source: source))
    }

    /// Reports progress inside the current phase; `fraction` nil means "still working, amount unknown".
    /// The message is only built for the reports that are sent: tools print far more lines than
    /// the pacing lets through.
    mutating func advance(
        fraction: Double?, message: @autoclosure () -> String, live: LiveProgress = LiveProgress(), force: Bool = false
    ) {
        if let fraction {
            let clamped = min(max(fraction, 0), 1)
            overall = max(overall, range.lowerBound + (range.upperBound - range.lowerBound) * clamped)
        }
        let now = clock.now
        if !force, let lastSent, now - lastSent < interval { return }
        lastSent = now
        sink.post(ProgressUpdate(step: step, progress: overall, message: message(), live: live))
    }
}

/// How the overall 0...100 is shared between phases.
///
/// Downloads and transcodes take comparable time for mp3; an mp4 re-encode dominates, but whether
/// one is needed is only known after the download, so the transcode phase simply takes whatever
/// lies between the end of the download and the store phase.
enum PhaseWeights {
    static let metadata: ClosedRange<Double> = 0...5
    static func download(for format: MediaFormat) -> ClosedRange<Double> {
        format == .mp3 ? 5...60 : 5...55
    }
    static let transcodeEnd: Double = 97
    static let store: ClosedRange<Double> = 97...99
}
