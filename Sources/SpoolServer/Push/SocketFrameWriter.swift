import NIOCore
import NIOWebSocket

/// Writes a connection's queued frames to its channel, entirely on the channel's event loop: no
/// Swift task, no hop through the cooperative pool.
///
/// It runs only while frames wait: ``FrameQueue`` starts it when a frame arrives and none runs. Each
/// turn writes every frame waiting, up to ``batchLimit``, with one flush, and takes the next batch
/// once the socket has taken the last one. That is backpressure: a client that stops reading leaves
/// its frames in the queue, where coalescing and the stall check see them.
struct SocketFrameWriter: Sendable {
    /// Most frames one write carries before it waits for the socket to take them.
    static let batchLimit = 64

    let queue: FrameQueue
    let channel: any Channel
    /// The client negotiated permessage-deflate: frames of ``MessageDeflate/minimumSizeToCompress``
    /// bytes or more go out compressed.
    let deflate: Bool
    let stats: PushStats

    /// Starts a turn (the queue's `wake`).
    func start() {
        channel.eventLoop.execute { writeBatch() }
    }

    private func writeBatch() {
        let batch = queue.popBatchForWriter(limit: Self.batchLimit)
        guard !batch.isEmpty else { return }
        let written = channel.eventLoop.makePromise(of: Void.self)
        for (index, item) in batch.enumerated() {
            channel.write(frame(item.text), promise: index == batch.count - 1 ? written : nil)
        }
        channel.flush()
        written.futureResult.whenComplete { result in
            // On failure the connection is gone; `writing` stays set, so no writer starts again.
            guard case .success = result else { return }
            stats.messageSent(count: batch.count)
            writeBatch()
        }
    }

    private func frame(_ text: String) -> WebSocketFrame {
        var buffer = channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        if deflate, buffer.readableBytes >= MessageDeflate.minimumSizeToCompress,
            let compressed = try? MessageDeflate.compress(buffer, allocator: channel.allocator)
        {
            return WebSocketFrame(fin: true, rsv1: true, opcode: .text, data: compressed)
        }
        return WebSocketFrame(fin: true, opcode: .text, data: buffer)
    }
}
