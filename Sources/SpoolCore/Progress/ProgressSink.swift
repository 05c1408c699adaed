/// Receives a running job's progress. The job coordinator implements it; tests can record it.
public protocol ProgressSink: Sendable {
    /// Reports and waits until the report is applied: a phase change, from the pipeline's task.
    func report(_ update: ProgressUpdate) async
    /// Reports without waiting, from the event loop that reads a tool's output. Reports of one
    /// caller apply in the order they were made, and before any it reports afterwards.
    func post(_ update: ProgressUpdate)
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
