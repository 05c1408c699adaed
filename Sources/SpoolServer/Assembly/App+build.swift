import Configuration
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import SpoolCore
import SystemPackage

/// The request context of every HTTP route.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
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
    for warning in configuration.warnings { logger.warning("configuration: \(warning)") }

    let objectStore = LocalObjectStore(root: FilePath(configuration.storagePath))
    try objectStore.prepare()
    let store: any JobStore =
        configuration.jobStore == "memory"
        ? InMemoryJobStore()
        : try SQLiteJobStore(path: FilePath(configuration.storagePath).appending("jobs.sqlite").string)
    try await store.migrate()

    let limits = fittedLimits(configuration, logger: logger)
    let writer = JobStateWriter(store: store, logger: logger)
    let coordinator = JobCoordinator(
        settings: .init(maxConcurrentJobs: limits.concurrentJobs), store: store, writer: writer, logger: logger
    )
    let pipeline = ConversionPipeline(
        settings: .init(tools: configuration.tools, progressInterval: configuration.progressInterval, videoPreset: configuration.videoPreset),
        objectStore: objectStore,
        runner: ToolRunner(priority: configuration.toolPriority),
        logger: logger
    )
    let runner = JobRunnerService(coordinator: coordinator, pipeline: pipeline, objectStore: objectStore, logger: logger)
    runner.endLeftoversOfEarlierRun()
    let stats = PushStats()

    let router = buildRouter(configuration: configuration, coordinator: coordinator, objectStore: objectStore, stats: stats)
    let session = PushSession(coordinator: coordinator, stats: stats, maxMessageBytes: configuration.maxMessageBytes, logger: logger)
    // Messages are assembled up to a generous size so that an oversize one gets a clear error and
    // the connection stays usable; the protocol limit (`maxMessageBytes`) is checked by the session.
    let socketSettings = PushSocketHandler.Settings(stallLimit: configuration.stallLimit, maxAssembledBytes: max(configuration.maxMessageBytes * 16, 1 << 20))
    let sockets = PushSockets(interval: configuration.pingInterval, shutdownTimeout: socketSettings.closeTimeout + .seconds(1))

    let connectionLimit = limits.maxConnections
    logger.info("connection limit", metadata: ["http.max_connections": "\(connectionLimit)"])
    var app = Application(
        router: router,
        server: HTTPServerBuilder { responder in
            PushServerChannel(responder: responder, session: session, settings: socketSettings, sockets: sockets, maxFrameSize: 1 << 20)
        },
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "Spool",
            availableConnectionsDelegate: MaximumAvailableConnections(connectionLimit, logger: logger)
        ),
        logger: logger
    )
    app.addServices(writer, runner, sockets)
    return app
}

/// Job concurrency and the connection limit, lowered (with a warning) where the configuration asks
/// for more than the open-file limit can hold: the server must not be able to run itself out of
/// descriptors (``OpenFileBudget``).
func fittedLimits(_ configuration: SpoolConfiguration, logger: Logger) -> (concurrentJobs: Int, maxConnections: Int) {
    let openFiles = OpenFileBudget.softLimit()
    let fitted = OpenFileBudget.fit(concurrentJobs: configuration.concurrentJobs, maxConnections: configuration.maxConnections, openFiles: openFiles)
    if fitted.concurrentJobs < configuration.concurrentJobs {
        logger.warning(
            "jobs.concurrency lowered to fit the open-file limit",
            metadata: ["configured": "\(configuration.concurrentJobs)", "allowed": "\(fitted.concurrentJobs)", "open_files": "\(openFiles)"]
        )
    }
    if let asked = configuration.maxConnections, fitted.maxConnections < asked {
        logger.warning(
            "http.max_connections lowered to fit the open-file limit",
            metadata: ["configured": "\(asked)", "allowed": "\(fitted.maxConnections)", "open_files": "\(openFiles)"]
        )
    }
    return fitted
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
