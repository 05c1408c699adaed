import Prometheus
import SpoolCore

/// The Prometheus registry behind `/metrics`.
///
/// Gauges are set from the live counts at scrape time rather than updated on every event: the
/// counts already exist in the coordinator and the push statistics, so the hot paths stay free of
/// metric bookkeeping.
final class SpoolMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let queued: Gauge
    private let running: Gauge
    private let subscriptions: Gauge
    private let connections: Gauge
    private let messagesSent: Gauge
    private let uptime: Gauge
    private let ended: [JobStatus: Gauge]

    init() {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        func gauge(_ name: String, _ unit: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "spool", metricName: name, unitName: unit, helpText: help))
        }
        queued = gauge("jobs_queued", "", "Jobs waiting for a worker.")
        running = gauge("jobs_running", "", "Jobs being converted now.")
        subscriptions = gauge("subscriptions", "", "Live job subscriptions (WebSocket and SSE).")
        connections = gauge("websocket_connections", "", "Open WebSocket connections.")
        messagesSent = gauge("websocket_messages_sent", "total", "WebSocket messages sent since start.")
        uptime = gauge("uptime", "seconds", "Seconds since the server started.")
        var ended: [JobStatus: Gauge] = [:]
        for status in [JobStatus.completed, .failed, .cancelled] {
            ended[status] = registry.makeGauge(
                descriptor: MetricNameDescriptor(namespace: "spool", metricName: "jobs_ended", unitName: "total", helpText: "Jobs that ended since start, by final status."),
                labels: [("status", status.rawValue)]
            )
        }
        self.ended = ended
    }

    func render(counts: (queued: Int, running: Int, subscriptions: Int), ended: [JobStatus: Int], stats: PushStats) -> String {
        queued.set(Double(counts.queued))
        running.set(Double(counts.running))
        subscriptions.set(Double(counts.subscriptions))
        connections.set(Double(stats.connections))
        messagesSent.set(Double(stats.messagesSent))
        uptime.set(stats.uptimeSeconds)
        for (status, gauge) in self.ended { gauge.set(Double(ended[status] ?? 0)) }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
