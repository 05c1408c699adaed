import Logging
import NIOCore
import NIOWebSocket
import SpoolCore

/// One `/api/ws` connection, as a SwiftNIO channel handler: the WebSocket protocol around
/// ``PushSession``.
///
/// An idle connection is this object, its ``FrameQueue`` and NIO's own pipeline — no Swift task, no
/// timer, no compressor. Work exists only while there is some: a task per client message (chained,
/// so messages are handled one at a time in arrival order), a ``SocketFrameWriter`` turn while frames
/// wait, one server-wide timer for pings (``PushSockets``). That is what brings an idle connection well
/// under Hummingbird's own WebSocket handler, which keeps a task, an async channel and a ping task
/// per connection (BENCHMARKS.md).
///
/// It does what a WebSocket endpoint owes its peer (RFC 6455): answers pings, echoes a close, closes
/// with a code on a protocol error (1002), a message that is not UTF-8 or does not inflate (1007),
/// or one too large to assemble (1009), and stops reading while too many messages wait. Every state
/// change happens on the channel's event loop.
final class PushSocketHandler: ChannelDuplexHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    struct Settings: Sendable {
        /// A client whose oldest unsent frame waits longer than this is closed (1008); it can resume.
        var stallLimit: Duration
        /// Largest message assembled from fragments or inflated; past it the connection closes (1009).
        /// Messages under it but over the protocol's limit get a `MESSAGE_TOO_LARGE` error instead.
        var maxAssembledBytes: Int
        /// How long a close this side started waits for the client's close before the socket is shut.
        var closeTimeout: Duration = .seconds(15)
        /// Messages received but not yet handled; at this many, reading pauses.
        var maxMessagesInFlight = 8
    }

    private enum State {
        case open
        /// A close frame was sent; the timer shuts the socket if the client never answers.
        case closing(Scheduled<Void>?)
        case closed
    }

    private let session: PushSession
    private let settings: Settings
    private let sockets: PushSockets
    /// permessage-deflate was negotiated.
    private let deflate: Bool
    private let queue = FrameQueue()

    private var context: ChannelHandlerContext?
    private var state = State.open
    /// The message being assembled from fragments.
    private var partial: (opcode: WebSocketOpcode, compressed: Bool, data: ByteBuffer)?
    private var messagesInFlight = 0
    /// Completes when the last message received has been handled; the next one starts after it.
    private var lastMessage: EventLoopFuture<Void>?
    private var readPaused = false
    private var awaitingPong = false
    private var tornDown = false

    init(session: PushSession, settings: Settings, sockets: PushSockets, deflate: Bool) {
        self.session = session
        self.settings = settings
        self.sockets = sockets
        self.deflate = deflate
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        session.stats.connectionOpened()
        sockets.register(self, on: context.eventLoop)
        let writer = SocketFrameWriter(queue: queue, channel: context.channel, deflate: deflate, stats: session.stats)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        queue.attach(
            stallLimit: settings.stallLimit,
            wake: { writer.start() },
            onStall: { eventLoop.execute { handler.value.stalled() } }
        )
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .closing(let timer) = state { timer?.cancel() }
        state = .closed
        tearDown()
        context.fireChannelInactive()
    }

    /// Once per connection: it stops being pinged, and its queue and subscriptions are released.
    private func tearDown() {
        guard !tornDown, let context else { return }
        tornDown = true
        sockets.unregister(self, on: context.eventLoop)
        session.stats.connectionClosed()
        // After the message being handled, if any: a `subscribe_job` still in flight must not
        // leave a subscription behind.
        let session = self.session, queue = self.queue
        if let lastMessage {
            lastMessage.whenComplete { _ in session.connectionClosed(queue: queue) }
        } else {
            session.connectionClosed(queue: queue)
        }
    }

    // MARK: Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard case .open = state else {
            // Only the answer to our close matters now.
            if frame.opcode == .connectionClose { context.close(promise: nil) }
            return
        }
        // Clients must mask (RFC 6455 §5.1); no extension Spool offers uses RSV2 or RSV3.
        guard frame.maskKey != nil, !frame.rsv2, !frame.rsv3 else {
            return close(.protocolError, reason: "unmasked frame or reserved bits set")
        }
        switch frame.opcode {
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            awaitingPong = false
        case .connectionClose:
            answerClose(frame, context: context)
        case .text, .binary:
            guard partial == nil else { return close(.protocolError, reason: "new message inside a fragmented one") }
            guard !frame.rsv1 || deflate else { return close(.protocolError, reason: "compressed frame without permessage-deflate") }
            partial = (frame.opcode, frame.rsv1, frame.unmaskedData)
            continueMessage(fin: frame.fin, context: context)
        case .continuation:
            guard var message = partial, !frame.rsv1 else { return close(.protocolError, reason: "unexpected continuation frame") }
            partial = nil  // so that `message.data` is not shared while it grows
            var more = frame.unmaskedData
            message.data.writeBuffer(&more)
            partial = message
            continueMessage(fin: frame.fin, context: context)
        default:
            close(.protocolError, reason: "unknown opcode")
        }
    }

    private func continueMessage(fin: Bool, context: ChannelHandlerContext) {
        guard let message = partial else { return }
        guard message.data.readableBytes <= settings.maxAssembledBytes else {
            partial = nil
            return close(.messageTooLarge, reason: "message too large")
        }
        guard fin else { return }
        partial = nil
        var payload = message.data
        if message.compressed {
            do {
                payload = try MessageDeflate.decompress(payload, maxSize: settings.maxAssembledBytes, allocator: context.channel.allocator)
            } catch {
                return close(.dataInconsistentWithMessage, reason: "message does not inflate")
            }
        }
        guard message.opcode == .text else { return handle(.binary, context: context) }
        guard let text = String(validating: payload.readableBytesView, as: UTF8.self) else {
            return close(.dataInconsistentWithMessage, reason: "text message is not UTF-8")
        }
        handle(.text(text), context: context)
    }

    /// Hands a whole message to the session after the one before it has been handled.
    private func handle(_ message: PushSession.Message, context: ChannelHandlerContext) {
        messagesInFlight += 1
        let session = self.session, queue = self.queue, eventLoop = context.eventLoop
        let previous = lastMessage ?? eventLoop.makeSucceededVoidFuture()
        let handled = previous.flatMap {
            eventLoop.makeFutureWithTask { await session.handle(message, queue: queue) }
        }
        lastMessage = handled
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        handled.whenComplete { _ in handler.value.messageHandled() }
    }

    private func messageHandled() {
        messagesInFlight -= 1
        if messagesInFlight == 0 { lastMessage = nil }
        if readPaused, messagesInFlight < settings.maxMessagesInFlight, let context {
            readPaused = false
            context.read()
        }
    }

    /// Backpressure: a client that sends faster than its messages are handled is not read from
    /// until they catch up, so it cannot make the server buffer without bound.
    func read(context: ChannelHandlerContext) {
        if messagesInFlight >= settings.maxMessagesInFlight {
            readPaused = true
        } else {
            context.read()
        }
    }

    // MARK: Closing

    /// The client started the close handshake: echo its code (1002 instead if the code is one a
    /// peer may not send, RFC 6455 §7.4), then shut the socket.
    private func answerClose(_ frame: WebSocketFrame, context: ChannelHandlerContext) {
        var data = frame.unmaskedData
        var reply = context.channel.allocator.buffer(capacity: 2)
        switch data.readableBytes {
        case 0:
            break
        case 1:
            reply.write(webSocketErrorCode: .protocolError)
        default:
            let code = data.readInteger(as: UInt16.self) ?? 0
            let allowed = (1000...1003).contains(code) || (1007...1011).contains(code) || (3000...4999).contains(code)
            reply.writeInteger(allowed ? code : 1002)
        }
        state = .closing(nil)
        queue.close()
        let bound = context.loopBound
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: reply))).whenComplete { _ in
            bound.value.close(promise: nil)
        }
    }

    /// Starts the close handshake with `code`. Frames still queued are dropped; the client resumes
    /// with `subscribe_job {after}` if it wants them.
    func close(_ code: WebSocketErrorCode, reason: String) {
        guard case .open = state, let context else { return }
        var data = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        data.write(webSocketErrorCode: code)
        data.writeString(reason)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
        queue.close()
        let bound = context.loopBound
        let timer = context.eventLoop.scheduleTask(in: TimeAmount(settings.closeTimeout)) { bound.value.close(promise: nil) }
        state = .closing(timer)
    }

    /// A ping round from ``PushSockets``: a client that left the last ping unanswered is closed.
    func pingRound() {
        guard case .open = state, let context else { return }
        guard !awaitingPong else { return close(.goingAway, reason: "ping timeout") }
        awaitingPong = true
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(capacity: 0))), promise: nil)
    }

    private func stalled() {
        session.logger.notice("closing a stalled WebSocket", metadata: ["queue.pending": "\(queue.pendingCount)"])
        session.stats.connectionStalled()
        close(.policyViolation, reason: "too slow; reconnect and resubscribe with after")
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            close(.goingAway, reason: "server shutting down")
        } else if let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Frame-level errors were answered (close 1002/1009) by NIO's WebSocketProtocolErrorHandler.
        guard !(error is NIOWebSocketError) else { return }
        session.logger.debug("websocket closed on error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}
