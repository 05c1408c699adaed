/// Receives a running job's progress. The job coordinator implements it; tests can record it.
public protocol ProgressSink: Sendable {
    func report(_ update: ProgressUpdate) async
}

/// One step forward in a job, in overall terms.
public struct ProgressUpdate: Sendable, Equatable {
    public var step: JobStep
    /// Overall 0...100 across all phases.
    public var progress: Double
    public var message: String
    public var live: LiveProgress
    /// Set once, when the metadata step has learnt what the source is.
    public var source: SourceSummary?

    public init(step: JobStep, progress: Double, message: String, live: LiveProgress = LiveProgress(), source: SourceSummary? = nil) {
        self.step = step
        self.progress = progress
        self.message = message
        self.live = live
        self.source = source
    }
}
