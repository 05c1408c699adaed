import Foundation

/// What `subscribe` sent, for the caller's bookkeeping.
public struct SubscriptionResult: Sendable {
    public var job: Job
    /// Whether live events will follow (false once the job has ended).
    public var isLive: Bool
    public var replayed: Int
    public var resync: Bool
}

extension JobCoordinator {
    /// Subscribes and, in the same step, delivers the snapshot (`job_state`, echoing `replyID`),
    /// then every event with `seq > after` (or, when the history no longer reaches back, marks the
    /// snapshot `resync` and sends only the terminal event if there is one). Live events follow.
    public func subscribe(
        _ subscriber: any EventSubscriber, to id: JobID, after: Int?, replyID: String?
    ) async throws(SpoolError) -> SubscriptionResult {
        guard let job = try await lookup(id) else { throw .jobNotFound(id.rawValue) }
        // The lookup may have suspended; a live job's newest state is in memory.
        let current = jobs[id] ?? job
        let missed: [JobEvent]?
        if let after {
            missed = after >= current.seq ? [] : histories[id]?.events(after: after)
        } else {
            missed = []
        }
        let resync = missed == nil
        var snapshot = EventPayload(job: current, kind: nil, at: .now)
        if resync { snapshot.resync = true }
        subscriber.deliver(reply: encoder.frame(type: "job_state", id: replyID, payload: snapshot))
        var replay = missed ?? []
        if current.status.isTerminal, (after ?? 0) < current.seq, replay.last?.seq != current.seq {
            // A terminal event is never lost: rebuild it from the stored job when the history is gone.
            replay = replay.filter { $0.seq < current.seq } + [makeEvent(current, kind: terminalKind(current.status))]
        }
        for event in replay { subscriber.deliver(event) }
        let isLive = !current.status.isTerminal
        if isLive { addSubscriber(subscriber, to: id) }
        return SubscriptionResult(job: current, isLive: isLive, replayed: replay.count, resync: resync)
    }

    /// Stops live delivery of one job to `subscriber`.
    public func unsubscribe(_ subscriber: any EventSubscriber, from id: JobID) -> Bool {
        guard subscribers[id]?.removeValue(forKey: ObjectIdentifier(subscriber)) != nil else { return false }
        subscriptionCount -= 1
        if subscribers[id]?.isEmpty == true { subscribers[id] = nil }
        return true
    }

    /// Drops every subscription of a subscriber that went away.
    public func unsubscribeAll(_ subscriber: any EventSubscriber, from ids: some Sequence<JobID>) {
        for id in ids { _ = unsubscribe(subscriber, from: id) }
    }

    func addSubscriber(_ subscriber: any EventSubscriber, to id: JobID) {
        let key = ObjectIdentifier(subscriber)
        if subscribers[id, default: [:]].updateValue(subscriber, forKey: key) == nil { subscriptionCount += 1 }
    }

    /// After a terminal event nothing more will come, so the job's subscribers are released.
    func dropSubscribers(of id: JobID) {
        subscriptionCount -= subscribers[id]?.count ?? 0
        subscribers[id] = nil
    }

    func terminalKind(_ status: JobStatus) -> JobEvent.Kind {
        switch status {
        case .completed: .completed
        case .failed: .failed
        default: .cancelled
        }
    }
}
