import NIOCore
import NIOWebSocket
import ServiceLifecycle
import Synchronization

/// The open `/api/ws` connections of the server: pinged once per `interval` from one timer, and
/// closed with 1001 at shutdown, which waits until they are gone.
///
/// One timer, not one sleeping task per connection: an idle connection then costs no task, no
/// timer and no stack, only its entry here. Connections are kept per event loop, so a ping round is
/// one hop to each loop, which then pings its own connections without a lock.
///
/// Shutdown needs this too. Hummingbird's server waits for its connection tasks, and an upgraded
/// connection has none (``PushServerChannel``), so the server would stop without waiting for the
/// close handshakes. As a service added after the job services, this one is shut down after the
/// server has stopped accepting; it then closes every connection and waits for them.
final class PushSockets: Service, Sendable {
    private struct Loop {
        let eventLoop: any EventLoop
        var handlers: [ObjectIdentifier: NIOLoopBound<PushSocketHandler>] = [:]
    }

    let interval: Duration
    /// How long shutdown waits for clients to answer the close before it goes on without them.
    let shutdownTimeout: Duration
    private let loops = Mutex<[ObjectIdentifier: Loop]>([:])

    init(interval: Duration, shutdownTimeout: Duration) {
        self.interval = interval
        self.shutdownTimeout = shutdownTimeout
    }

    /// Called on the handler's event loop when its connection opens.
    func register(_ handler: PushSocketHandler, on eventLoop: any EventLoop) {
        let entry = NIOLoopBound(handler, eventLoop: eventLoop)
        loops.withLock { loops in
            loops[ObjectIdentifier(eventLoop), default: Loop(eventLoop: eventLoop)].handlers[ObjectIdentifier(handler)] = entry
        }
    }

    /// Called on the handler's event loop when its connection ends.
    func unregister(_ handler: PushSocketHandler, on eventLoop: any EventLoop) {
        _ = loops.withLock { loops in
            loops[ObjectIdentifier(eventLoop)]?.handlers.removeValue(forKey: ObjectIdentifier(handler))
        }
    }

    /// Connections open now.
    var count: Int {
        loops.withLock { $0.values.reduce(0) { $0 + $1.handlers.count } }
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: self.interval)
                self.forEach { $0.pingRound() }
            }
        }
        guard !Task.isCancelled else { return }
        forEach { $0.close(.goingAway, reason: "server shutting down") }
        let deadline = ContinuousClock.now + shutdownTimeout
        while count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Runs `body` for every connection, on the connection's event loop.
    private func forEach(_ body: @escaping @Sendable (PushSocketHandler) -> Void) {
        let snapshot = loops.withLock { loops in loops.values.map { ($0.eventLoop, Array($0.handlers.values)) } }
        for (eventLoop, handlers) in snapshot where !handlers.isEmpty {
            eventLoop.execute {
                for handler in handlers { body(handler.value) }
            }
        }
    }
}
