import Configuration
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdCore
import HummingbirdWSCompression
import HummingbirdWebSocket
import Logging
import NIOCore
import SpoolCore
import SystemPackage

/// The request context of every HTTP route and of the WebSocket upgrade: Hummingbird's
/// `BasicWebSocketRequestContext` plus the connection's channel, which the push socket writes to
/// directly (several frames per flush) when the client did not negotiate compression.
public struct AppRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.channel = source.channel
    }
}

/// Builds the whole server from configuration: stores, coordinator, runner, routes and sockets.
///
/// Everything is created here and handed down as typed values; nothing else reads the
/// environment. The job store is migrated here, before any service starts, because the job runner
/// reads it (restart recovery) as soon as it runs.
public func buildApplication(_ configuration: SpoolConfiguration) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "spool")
    logger.logLevel = configuration.logLevel

    let objectStore = LocalObjectStore(root: FilePath(configuration.storagePath))
    try objectStore.prepare()
    let store: any JobStore =
        configuration.jobStore == "memory"
        ? InMemoryJobStore()
        : try SQLiteJobStore(path: FilePath(configuration.storagePath).appending("jobs.sqlite").string)
    try await store.migrate()

    let writer = JobStateWriter(store: store, logger: logger)
    let coordinator = JobCoordinator(
        settings: .init(maxConcurrentJobs: configuration.concurrentJobs), store: store, writer: writer, logger: logger
    )
    let pipeline = ConversionPipeline(
        settings: .init(tools: configuration.tools, progressInterval: configuration.progressInterval, videoPreset: configuration.videoPreset),
        objectStore: objectStore,
        logger: logger
    )
    let runner = JobRunnerService(coordinator: coordinator, pipeline: pipeline, objectStore: objectStore, logger: logger)
    runner.endLeftoversOfEarlierRun()
    let stats = PushStats()

    let router = buildRouter(configuration: configuration, coordinator: coordinator, objectStore: objectStore, stats: stats)
    let webSocketRouter = Router(context: AppRequestContext.self)
    let session = PushSession(
        coordinator: coordinator, stats: stats, maxMessageBytes: configuration.maxMessageBytes, stallLimit: configuration.stallLimit, logger: logger
    )
    webSocketRouter.ws("/api/ws") { inbound, outbound, context in
        // permessage-deflate is applied by Hummingbird's writer, so a client that offered it keeps
        // that writer; any other client gets batched writes on the channel.
        let offeredCompression = context.request.headers[values: .secWebSocketExtensions].contains { $0.contains("permessage-deflate") }
        await session.run(inbound: inbound, outbound: outbound, channel: offeredCompression ? nil : context.requestContext.channel)
    }

    let connectionLimit =
        configuration.maxConnections
        ?? OpenFileBudget.connectionLimit(openFiles: OpenFileBudget.softLimit(), concurrentJobs: configuration.concurrentJobs)
    logger.info("connection limit", metadata: ["http.max_connections": "\(connectionLimit)"])
    var app = Application(
        router: router,
        server: .http1WebSocketUpgrade(
            webSocketRouter: webSocketRouter,
            configuration: .init(
                ws: .init(
                    maxFrameSize: 1 << 20,
                    // Offered by browsers; without context takeover no compressor state outlives a message,
                    // which keeps idle connections small. Progress frames are a few hundred bytes.
                    extensions: [.perMessageDeflate(noContextTakeover: true, maxDecompressedFrameSize: 1 << 20, minFrameSizeToCompress: 256)],
                    autoPing: .enabled(timePeriod: configuration.pingInterval)
                )
            )
        ),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "Spool",
            availableConnectionsDelegate: MaximumAvailableConnections(connectionLimit, logger: logger)
        ),
        logger: logger
    )
    app.addServices(writer, runner)
    return app
}

/// Builds the HTTP routes.
func buildRouter(configuration: SpoolConfiguration, coordinator: JobCoordinator, objectStore: LocalObjectStore, stats: PushStats) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.middlewares.add(LogRequestsMiddleware(.debug))
    // Other pages may embed Spool (the README's example imports the JS client from here). There is
    // no credential to protect yet; when auth arrives, this narrows to configured origins.
    router.middlewares.add(
        CORSMiddleware(
            allowOrigin: .all,
            allowHeaders: [.accept, .contentType, .origin, .range, HTTPField.Name("Last-Event-ID")!],
            allowMethods: [.get, .post, .delete, .head, .options],
            exposedHeaders: ["Content-Disposition", "Content-Range", "ETag", "Location"]
        )
    )
    router.middlewares.add(FileMiddleware(configuration.publicPath, searchForIndexHtml: true))
    StatusController(
        coordinator: coordinator, stats: stats, objectStore: objectStore, tools: configuration.tools, metrics: SpoolMetrics()
    ).addRoutes(to: router)
    router.addRoutes(
        ConversionsController(coordinator: coordinator, maxBodyBytes: configuration.maxMessageBytes, keepAliveInterval: .seconds(15)).endpoints,
        atPath: "/api/conversions"
    )
    router.addRoutes(FilesController(objectStore: objectStore).endpoints, atPath: "/files")
    return router
}
