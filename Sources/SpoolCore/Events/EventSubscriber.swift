/// Something that receives a job's frames: a WebSocket connection, an SSE stream.
///
/// Delivery is synchronous and must not block: the job coordinator calls it while it holds its
/// state, which is what makes "snapshot, then missed events, then live events" arrive in order
/// with nothing lost or doubled in between.
public protocol EventSubscriber: AnyObject, Sendable {
    /// A job event, shared by every subscriber of the job.
    func deliver(_ event: JobEvent)
    /// A frame meant for this subscriber only (a snapshot that echoes its correlation id).
    func deliver(reply frame: String)
}
