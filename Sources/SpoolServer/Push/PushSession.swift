import Foundation
import Logging
import SpoolCore

/// Spool's protocol on `/api/ws`: what each client message does, and the cleanup when a connection
/// ends. It knows nothing of sockets: ``PushSocketHandler`` speaks WebSocket and hands it whole
/// messages, one at a time per connection, in the order they arrived; every answer goes into the
/// connection's ``FrameQueue``, the same queue job events go into, so a reply and an event can never
/// overtake each other.
struct PushSession: Sendable {
    /// One complete client message, as the socket assembled it.
    enum Message: Sendable {
        case text(String)
        case binary
    }

    let coordinator: JobCoordinator
    let stats: PushStats
    let maxMessageBytes: Int
    let logger: Logger

    func handle(_ message: Message, queue: FrameQueue) async {
        stats.messageReceived()
        // Made per message, not per connection: an idle connection then holds no encoder.
        let encoder = FrameEncoder()
        guard case .text(let text) = message else {
            queue.deliver(reply: errorFrame(.badMessage("Send JSON text frames, not binary."), id: nil, encoder))
            return
        }
        guard text.utf8.count <= maxMessageBytes else {
            queue.deliver(reply: errorFrame(.messageTooLarge(limit: maxMessageBytes), id: nil, encoder))
            return
        }
        await handle(text, queue: queue, encoder: encoder)
    }

    /// Ends the connection's queue and releases every subscription it held (a task only when there
    /// are some: most connections that close follow nothing).
    func connectionClosed(queue: FrameQueue) {
        let followed = queue.followedJobs
        queue.close()
        guard !followed.isEmpty else { return }
        Task { [coordinator] in await coordinator.unsubscribeAll(queue, from: followed) }
    }

    private func handle(_ text: String, queue: FrameQueue, encoder: FrameEncoder) async {
        let (message, id, decodeError) = ClientMessage.decode(text)
        guard let message else {
            queue.deliver(reply: errorFrame(decodeError ?? .badMessage("Unreadable message."), id: id, encoder))
            return
        }
        do throws(SpoolError) {
            switch message {
            case .startConversion(let request):
                let options = try request.validated()
                let job = try await coordinator.submit(options, subscriber: queue, replyID: id)
                queue.follow(job.id)
            case .subscribeJob(let jobText, let after):
                guard let jobID = JobID(validating: jobText) else { throw .jobNotFound(jobText) }
                let result = try await coordinator.subscribe(queue, to: jobID, after: after, replyID: id)
                if result.isLive { queue.follow(jobID) }
            case .unsubscribeJob(let jobText):
                guard let jobID = JobID(validating: jobText) else { throw .jobNotFound(jobText) }
                let wasSubscribed = await coordinator.unsubscribe(queue, from: jobID)
                queue.unfollow(jobID)
                queue.deliver(reply: encoder.frame(type: "unsubscribed", id: id, payload: UnsubscribedReply(jobId: jobID.rawValue, wasSubscribed: wasSubscribed)))
            case .cancelJob(let jobText):
                guard let jobID = JobID(validating: jobText) else { throw .jobNotFound(jobText) }
                let job = try await coordinator.cancel(jobID)
                queue.deliver(reply: encoder.frame(type: "cancel_accepted", id: id, payload: CancelReply(jobId: jobID.rawValue, status: job.status)))
            case .ping:
                queue.deliver(reply: encoder.frame(type: "pong", id: id, payload: PongReply(timestamp: Date())))
            }
        } catch {
            queue.deliver(reply: errorFrame(error, id: id, encoder))
        }
    }

    private func errorFrame(_ error: SpoolError, id: String?, _ encoder: FrameEncoder) -> String {
        encoder.frame(type: "error", id: id, payload: error)
    }
}

/// Payload of `unsubscribed`.
struct UnsubscribedReply: Encodable {
    let jobId: String
    let wasSubscribed: Bool
}

/// Payload of `cancel_accepted`: the status now; `conversion_cancelled` follows for subscribers.
struct CancelReply: Encodable {
    let jobId: String
    let status: JobStatus
}

/// Payload of `pong`.
struct PongReply: Encodable {
    let timestamp: Date
}
