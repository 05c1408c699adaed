import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// Spool's connections: HTTP/1.1 for every route, and `/api/ws` upgraded to a WebSocket served by
/// ``PushSocketHandler`` on SwiftNIO's own WebSocket codec.
///
/// Built like Hummingbird's `HTTP1WebSocketUpgradeChannel`, with one difference that is the point:
/// once a connection is upgraded, ``handle(value:logger:)`` returns and no Swift task stays with it;
/// the channel handler does the rest from the event loop. HTTP connections are served by
/// Hummingbird exactly as before. At shutdown, NIO's quiescing reaches every open socket
/// (``PushSocketHandler`` answers it with a 1001 close); since Hummingbird's server waits only for
/// connection tasks, ``PushSockets`` is what waits for those sockets to close.
struct PushServerChannel: ServerChildChannel, HTTPChannelHandler {
    enum UpgradeResult: Sendable {
        case pushSocket
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        case failedUpgrade(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    }

    struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        let channel: any Channel
    }

    static let path = "/api/ws"
    static let receiveBuffers = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65536)

    let responder: HTTPChannelHandler.Responder
    let session: PushSession
    let settings: PushSocketHandler.Settings
    let sockets: PushSockets
    /// Largest single WebSocket frame read; a bigger one closes the connection (1009).
    let maxFrameSize: Int

    init(
        responder: @escaping HTTPChannelHandler.Responder, session: PushSession, settings: PushSocketHandler.Settings,
        sockets: PushSockets, maxFrameSize: Int
    ) {
        self.responder = Self.redirectingLateUpgrades(responder)
        self.session = session
        self.settings = settings
        self.sockets = sockets
        self.maxFrameSize = maxFrameSize
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // NIO keeps each connection's receive buffer for its next read; its default first size
            // (2 KiB) is most of what an idle push socket would cost. Requests and client messages
            // are small; the buffer still grows for a large upload.
            try channel.syncOptions?.setOption(ChannelOptions.recvAllocator, value: Self.receiveBuffers)
            try channel.pipeline.syncOperations.addHandler(SilentConnectionHandler())
            let upgradeAttempted = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
            let (session, settings, sockets) = (self.session, self.settings, self.sockets)
            let upgrader = NIOTypedWebSocketServerUpgrader<UpgradeResult>(
                maxFrameSize: maxFrameSize,
                shouldUpgrade: { channel, head in
                    upgradeAttempted.value = true
                    guard Self.isPushPath(head.uri) else { return channel.eventLoop.makeSucceededFuture(nil) }
                    var headers = HTTPHeaders()
                    if MessageDeflate.accepts(offers: head.headers["Sec-WebSocket-Extensions"]) {
                        headers.add(name: "Sec-WebSocket-Extensions", value: MessageDeflate.responseHeader)
                    }
                    return channel.eventLoop.makeSucceededFuture(headers)
                },
                upgradePipelineHandler: { channel, head in
                    channel.eventLoop.makeCompletedFuture {
                        let deflate = MessageDeflate.accepts(offers: head.headers["Sec-WebSocket-Extensions"])
                        let handler = PushSocketHandler(session: session, settings: settings, sockets: sockets, deflate: deflate)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return UpgradeResult.pushSocket
                    }
                }
            )
            let upgradeConfiguration = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
                        try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel,
                            configuration: .init(isOutboundHalfClosureEnabled: true)
                        )
                        return upgradeAttempted.value ? .failedUpgrade(asyncChannel) : .notUpgraded(asyncChannel)
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: upgradeConfiguration)
            configuration.enablePipelining = false  // Hummingbird's NIOAsyncChannel serves requests in order
            configuration.enableErrorHandling = false  // Hummingbird answers parse errors itself
            configuration.enableResponseHeaderValidation = false  // HTTPTypes already validates
            let upgradeResult = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            return Value(upgradeResult: upgradeResult, channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .pushSocket:
                // The channel handler owns the connection from here; this task ends.
                return
            case .notUpgraded(let http1):
                await handleHTTP(asyncChannel: http1, logger: logger)
            case .failedUpgrade(let http1):
                await refuseUpgrade(http1, logger: logger)
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("connection closed before its first request")
        } catch {
            logger.debug("connection setup failed", metadata: ["error": "\(error)"])
        }
    }

    /// A WebSocket upgrade on any other path: 400, and the connection closes.
    private func refuseUpgrade(_ http1: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, logger: Logger) async {
        do {
            try await http1.executeThenClose { _, outbound in
                let head = HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])
                try await outbound.write(contentsOf: [.head(head), .end(nil)])
            }
        } catch {
            logger.trace("could not refuse an upgrade", metadata: ["error": "\(error)"])
        }
    }

    static func isPushPath(_ uri: String) -> Bool {
        uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first == Substring(path)
    }

    /// NIO can upgrade only the first request of a connection. An upgrade request that arrives later
    /// on a kept-alive connection is redirected to the same address with `Connection: close`, so
    /// the client retries on a fresh connection, where the upgrade works (as Hummingbird does).
    static func redirectingLateUpgrades(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        struct RedirectedUpgrade: Error {}
        return { request, responseWriter, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                return try await responder(request, responseWriter, channel)
            }
            let location = request.uri.query.map { "\(request.uri.path)?\($0)" } ?? request.uri.path
            try await responseWriter.writeResponse(HTTPResponse(status: .temporaryRedirect, headerFields: [.connection: "close", .location: location]))
            // Thrown so that Hummingbird closes the connection.
            throw RedirectedUpgrade()
        }
    }
}
