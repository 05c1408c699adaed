import Foundation
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import SpoolCore

/// One WebSocket connection speaking Spool's protocol on `/api/ws`.
///
/// One task per connection, the handler's own, which reads (it must keep reading, or ping/pong/close
/// stop being processed). Everything the connection sends goes through its ``FrameQueue`` and is
/// written by one writer at a time that exists only while frames are waiting — a task for clients
/// with permessage-deflate, plain event-loop callbacks for the others — so a reply and a job event
/// can never interleave mid-frame or overtake each other. When reading ends, the queue is closed and
/// every subscription of the connection is released.
struct PushSession {
    let coordinator: JobCoordinator
    let stats: PushStats
    let maxMessageBytes: Int
    /// A client whose oldest unsent frame waits longer than this is closed (it can resume).
    let stallLimit: Duration
    let logger: Logger

    /// Most frames one batched write carries before it waits for the socket to take them.
    static let batchLimit = 64

    /// `channel`, when given, is the connection's own channel: the writer then writes every frame
    /// waiting (up to ``batchLimit``) with one flush on the channel's event loop, instead of one
    /// write, one flush and two thread hops per frame through `outbound`. Only for clients without
    /// permessage-deflate, which `outbound` applies.
    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: (any Channel)? = nil) async {
        let queue = FrameQueue()
        stats.connectionOpened()
        defer { stats.connectionClosed() }
        let stats = self.stats, logger = self.logger
        // No task waits on an idle connection but the handler's own, which reads: a writer is
        // started only when frames are queued and ends when the queue is empty, and the stall check
        // runs as frames are queued (a client that reads nothing also stops answering pings, which
        // closes it).
        queue.attach(
            stallLimit: stallLimit,
            wake: {
                if let channel {
                    Self.writeBatches(from: queue, to: channel, stats: stats)
                    return
                }
                Task.detached {
                    // One frame at a time: each write waits for the socket, and what is not yet
                    // taken stays in the queue, where it can still be coalesced and counted.
                    while let item = queue.popBatchForWriter(limit: 1).first {
                        do {
                            try await outbound.write(.text(item.text))
                            stats.messageSent()
                        } catch {
                            // The connection is gone; `writing` stays set, so no writer starts again.
                            return
                        }
                    }
                }
            },
            onStall: {
                Task.detached {
                    logger.notice("closing a stalled WebSocket", metadata: ["queue.pending": "\(queue.pendingCount)"])
                    stats.connectionStalled()
                    try? await outbound.close(.policyViolation, reason: "too slow; reconnect and resubscribe with after")
                }
            }
        )
        await read(inbound, replyingTo: queue)
        let followed = queue.followedJobs
        queue.close()
        await coordinator.unsubscribeAll(queue, from: followed)
    }

    /// The batched writer, entirely on the connection's event loop (no Swift task, no hop through
    /// the cooperative pool): every frame waiting, up to ``batchLimit``, one flush, and the next
    /// batch once the socket has taken the last one (backpressure: a client that stops reading
    /// leaves its frames in the queue, where the stall check sees them). Ends when the queue is
    /// empty; the next frame queued starts it again.
    private static func writeBatches(from queue: FrameQueue, to channel: any Channel, stats: PushStats) {
        channel.eventLoop.execute {
            let batch = queue.popBatchForWriter(limit: batchLimit)
            guard !batch.isEmpty else { return }
            let written = channel.eventLoop.makePromise(of: Void.self)
            for (index, item) in batch.enumerated() {
                let text = item.text
                var buffer = channel.allocator.buffer(capacity: text.utf8.count)
                buffer.writeString(text)
                channel.write(WebSocketFrame(fin: true, opcode: .text, data: buffer), promise: index == batch.count - 1 ? written : nil)
            }
            channel.flush()
            written.futureResult.whenComplete { result in
                // On failure the connection is gone; `writing` stays set, so no writer starts again.
                guard case .success = result else { return }
                stats.messageSent(count: batch.count)
                writeBatches(from: queue, to: channel, stats: stats)
            }
        }
    }

    private func read(_ inbound: WebSocketInboundStream, replyingTo queue: FrameQueue) async {
        do {
            // Frames are assembled up to a generous size so that an oversize message gets a clear
            // error and the connection stays usable; the protocol limit is checked just below.
            for try await message in inbound.messages(maxSize: max(maxMessageBytes * 16, 1 << 20)) {
                stats.messageReceived()
                // Made per message, not per connection: an idle connection then holds no encoder.
                let encoder = FrameEncoder()
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
