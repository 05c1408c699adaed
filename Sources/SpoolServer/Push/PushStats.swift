import Foundation
import Synchronization

/// Counters for `/api/ws/info` and `/metrics`, updated from every connection without a lock.
final class PushStats: Sendable {
    private let connectionCount = Atomic<Int>(0)
    private let totalConnections = Atomic<Int>(0)
    private let sentCount = Atomic<Int>(0)
    private let receivedCount = Atomic<Int>(0)
    private let stalledCount = Atomic<Int>(0)
    let startedAt = Date()

    func connectionOpened() {
        connectionCount.add(1, ordering: .relaxed)
        totalConnections.add(1, ordering: .relaxed)
    }

    func connectionClosed() {
        connectionCount.subtract(1, ordering: .relaxed)
    }

    func messageSent(count: Int = 1) {
        sentCount.add(count, ordering: .relaxed)
    }

    func connectionStalled() {
        stalledCount.add(1, ordering: .relaxed)
    }

    func messageReceived() {
        receivedCount.add(1, ordering: .relaxed)
    }

    var connections: Int { connectionCount.load(ordering: .relaxed) }
    var connectionsOpened: Int { totalConnections.load(ordering: .relaxed) }
    var messagesSent: Int { sentCount.load(ordering: .relaxed) }
    var messagesReceived: Int { receivedCount.load(ordering: .relaxed) }
    var connectionsStalled: Int { stalledCount.load(ordering: .relaxed) }
    var uptimeSeconds: Double { Date().timeIntervalSince(startedAt) }
}
