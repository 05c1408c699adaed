/// The last events of one job, so a client that reconnects gets exactly what it missed.
///
/// Bounded: progress events are superseded by the job's state anyway, so when a client has been
/// away longer than the history reaches it gets a `resync` snapshot instead of a replay.
struct EventHistory: Sendable {
    private var events: [JobEvent] = []
    private var start = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    mutating func append(_ event: JobEvent) {
        if events.count < capacity {
            events.append(event)
        } else {
            events[start] = event
            start = (start + 1) % capacity
        }
    }

    /// Events with `seq > after`, oldest first, or nil when the history no longer reaches back that far.
    func events(after seq: Int) -> [JobEvent]? {
        let ordered = Array(events[start...] + events[..<start])
        guard let first = ordered.first else { return [] }
        if first.seq > seq + 1 { return nil }
        return ordered.filter { $0.seq > seq }
    }
}
