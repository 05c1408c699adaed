import Foundation
import Hummingbird
import Prometheus
import SpoolCore

/// Liveness, readiness, push statistics and Prometheus metrics.
struct StatusController<Context: RequestContext> {
    let coordinator: JobCoordinator
    let stats: PushStats
    let objectStore: LocalObjectStore
    let tools: ToolPaths
    let metrics: SpoolMetrics

    func addRoutes(to router: Router<Context>) {
        router.get("healthz") { _, _ in try JSONResponse.make(["status": "ok"]) }
        router.get("readyz", use: ready)
        router.get("api/ws/info", use: info)
        router.get("metrics", use: prometheus)
    }

    /// Ready means a conversion could run now: every tool resolves and storage takes writes.
    @Sendable func ready(_ request: Request, context: Context) async throws -> Response {
        var checks: [String: Bool] = [:]
        for tool in tools.all { checks[tool.name] = await ToolPaths.isAvailable(tool.command) }
        checks["storage"] = objectStore.isWritable()
        let ready = checks.values.allSatisfy { $0 }
        return try JSONResponse.make(ReadyReport(ready: ready, checks: checks), status: ready ? .ok : .serviceUnavailable)
    }

    @Sendable func info(_ request: Request, context: Context) async throws -> Response {
        let counts = await coordinator.counts
        return try JSONResponse.make(
            PushInfo(
                connections: stats.connections,
                subscriptions: counts.subscriptions,
                messagesSent: stats.messagesSent,
                messagesReceived: stats.messagesReceived,
                connectionsOpened: stats.connectionsOpened,
                connectionsStalled: stats.connectionsStalled,
                uptimeSeconds: (stats.uptimeSeconds * 10).rounded() / 10,
                queuedJobs: counts.queued,
                runningJobs: counts.running
            )
        )
    }

    @Sendable func prometheus(_ request: Request, context: Context) async throws -> Response {
        let counts = await coordinator.counts
        let ended = await coordinator.endedTotals
        let text = metrics.render(counts: counts, ended: ended, stats: stats)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text))
        )
    }
}

/// `/readyz` body.
struct ReadyReport: Encodable {
    let ready: Bool
    let checks: [String: Bool]
}

/// `/api/ws/info` body: the brief's four numbers at the top level, and a few more.
struct PushInfo: Encodable {
    let connections: Int
    let subscriptions: Int
    let messagesSent: Int
    let messagesReceived: Int
    let connectionsOpened: Int
    let connectionsStalled: Int
    let uptimeSeconds: Double
    let queuedJobs: Int
    let runningJobs: Int
}
