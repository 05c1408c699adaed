import SpoolCore
import Synchronization

/// One connection's outgoing frames, in order: job events and direct replies alike.
///
/// It is the connection's ``EventSubscriber``: the coordinator drops frames in without waiting,
/// and the connection's single writer task takes them out. It also remembers which jobs the
/// connection follows, so they can all be released when it goes away.
final class FrameQueue: EventSubscriber {
    /// What the writer gets.
    enum Item: Sendable {
        case event(JobEvent)
        case reply(String)

        var text: String {
            switch self {
            case .event(let event): event.frame
            case .reply(let frame): frame
            }
        }
    }

    let items: AsyncStream<Item>
    private let continuation: AsyncStream<Item>.Continuation
    private let followed = Mutex<Set<JobID>>([])

    init() {
        (items, continuation) = AsyncStream.makeStream(of: Item.self)
    }

    func deliver(_ event: JobEvent) {
        continuation.yield(.event(event))
    }

    func deliver(reply frame: String) {
        continuation.yield(.reply(frame))
    }

    /// Ends the stream: the writer finishes after what is already queued.
    func finish() {
        continuation.finish()
    }

    func follow(_ id: JobID) {
        _ = followed.withLock { $0.insert(id) }
    }

    func unfollow(_ id: JobID) {
        _ = followed.withLock { $0.remove(id) }
    }

    var followedJobs: Set<JobID> {
        followed.withLock { $0 }
    }
}
