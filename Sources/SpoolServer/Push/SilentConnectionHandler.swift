import NIOCore

/// Closes a connection that has not sent a byte yet when the server shuts down or the client stops
/// sending; removes itself at the first byte.
///
/// Until its first request a connection sits in NIO's upgrade handler, where nothing answers
/// quiescing (Hummingbird's own state handler is added only once a request has come) and, with
/// remote half-closure allowed, nothing closes it when the client's side ends. Its task in the
/// server then waits for a request that never comes, and shutdown waits for that task: seen as a
/// test run hanging when a test client connected and left within the same few milliseconds.
final class SilentConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent || (event as? ChannelEvent) == .inputClosed {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }
}
