import Foundation
import HummingbirdWebSocket
import Logging
import NIOWebSocket
import SpoolCore

/// One WebSocket connection speaking Spool's protocol on `/api/ws`.
///
/// Two child tasks: one reads (it must keep reading, or ping/pong/close stop being processed), one
/// writes everything the ``FrameQueue`` holds, so a reply and a job event can never interleave
/// mid-frame or overtake each other. When either ends, the other is cancelled and every
/// subscription of the connection is released.
struct PushSession {
    let coordinator: JobCoordinator
    let stats: PushStats
    let maxMessageBytes: Int
    /// A client whose oldest unsent frame waits longer than this is closed (it can resume).
    let stallLimit: Duration
    let logger: Logger

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let queue = FrameQueue()
        stats.connectionOpened()
        defer { stats.connectionClosed() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while let item = await queue.next() {
                    do {
                        try await outbound.write(.text(item.text))
                        stats.messageSent()
                    } catch {
                        return
                    }
                }
            }
            group.addTask {
                await read(inbound, replyingTo: queue)
                queue.finish()
            }
            group.addTask {
                // The watchdog: a client that stopped reading would otherwise hold its frames forever.
                while !Task.isCancelled {
                    try? await Task.sleep(for: stallLimit / 4)
                    if queue.isStuck(longerThan: stallLimit) {
                        logger.notice("closing a stalled WebSocket", metadata: ["queue.pending": "\(queue.pendingCount)"])
                        stats.connectionStalled()
                        try? await outbound.close(.policyViolation, reason: "too slow; reconnect and resubscribe with after")
                        return
                    }
                }
            }
            await group.next()
            group.cancelAll()
        }
        await coordinator.unsubscribeAll(queue, from: queue.followedJobs)
    }

    private func read(_ inbound: WebSocketInboundStream, replyingTo queue: FrameQueue) async {
        let encoder = FrameEncoder()
        do {
            // Frames are assembled up to a generous size so that an oversize message gets a clear
            // error and the connection stays usable; the protocol limit is checked just below.
            for try await message in inbound.messages(maxSize: max(maxMessageBytes * 16, 1 << 20)) {
                stats.messageReceived()
                guard case .text(let text) = message else {
                    queue.deliver(reply: errorFrame(.badMessage("Send JSON text frames, not binary."), id: nil, encoder))
                    continue
                }
                guard text.utf8.count <= maxMessageBytes else {
                    queue.deliver(reply: errorFrame(.messageTooLarge(limit: maxMessageBytes), id: nil, encoder))
                    continue
                }
                await handle(text, queue: queue, encoder: encoder)
            }
        } catch {
            logger.debug("websocket read ended", metadata: ["error": "\(error)"])
        }
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
