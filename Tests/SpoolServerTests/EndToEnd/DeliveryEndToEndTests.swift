import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SpoolCore
import Testing

/// Resumable delivery: dropped connections, SSE resume, fan-out both ways, and subscriptions that
/// return to zero when clients leave.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct DeliveryEndToEndTests {
    /// Connections dropped at random points during real conversions: after de-duplication by
    /// `seq`, every job's events are gap-free and end in its terminal event.
    @Test func randomDropsLoseNothing() async throws {
        let source = try await TestMedia.shared.path(.small)
        let harness = SpoolHarness(concurrentJobs: 2)
        try await OriginServer.run { origin in
            try await harness.run { client in
                var generator = SystemRandomNumberGenerator()
                let seed = UInt64.random(in: 0...UInt64.max, using: &generator)
                var random = SplitMix(seed: seed)
                let qualities = ["128", "192", "320"]
                // First connection: start the jobs and drop after a few frames.
                let firstBudget = Int.random(in: 1...6, using: &random)
                let (firstFrames, jobIds) = try await withSocket(client) { socket in
                    var ids: [String] = []
                    for quality in qualities {
                        let url = "\(origin)/slow/\(source.lastPathComponent)?rate=600000"
                        try await socket.send("start_conversion", payload: ["url": url, "format": "mp3", "quality": quality])
                        ids.append(try #require(try await socket.next(where: { $0.type == "conversion_started" }).jobId))
                    }
                    var frames = socket.received
                    for _ in 0..<firstBudget { frames.append(try await socket.next()) }
                    return (frames, ids)
                }
                var seen: [String: [Int: Frame]] = [:]
                func absorb(_ frames: [Frame]) {
                    for frame in frames where frame.type != "job_state" && frame.type != "pong" {
                        guard let id = frame.jobId, let seq = frame.seq else { continue }
                        seen[id, default: [:]][seq] = frame
                    }
                }
                absorb(firstFrames)
                var reconnects = 0
                while jobIds.contains(where: { id in !(seen[id]?.values.contains(where: \.isTerminal) ?? false) }) {
                    reconnects += 1
                    #expect(reconnects < 200, "did not converge (seed \(seed))")
                    // Resume every job that has not ended, each after the last seq seen of it.
                    let unfinished = jobIds.filter { id in !(seen[id]?.values.contains(where: \.isTerminal) ?? false) }
                    let after = unfinished.map { id in (id, seen[id]?.keys.max() ?? 0) }
                    let budget = Int.random(in: 1...12, using: &random)
                    let frames = try await withSocket(client) { socket in
                        for (id, last) in after { try await socket.send("subscribe_job", payload: ["jobId": id, "after": last]) }
                        var frames: [Frame] = []
                        var terminals = Set<String>()
                        while frames.count < budget + after.count && terminals.count < after.count {
                            let frame = try await socket.next()
                            frames.append(frame)
                            if frame.isTerminal, let id = frame.jobId { terminals.insert(id) }
                        }
                        return frames
                    }
                    absorb(frames)
                }
                for id in jobIds {
                    let seqs = (seen[id] ?? [:]).keys.sorted()
                    let endings = seen[id]?.values.filter { $0.isTerminal } ?? []
                    let terminal = try #require(endings.first, "job \(id) never ended (seed \(seed))")
                    #expect(terminal.type == "conversion_completed")
                    #expect(seqs == Array(1...(terminal.seq ?? 0)), "gap in \(id): \(seqs) (seed \(seed))")
                }
                print("random drops: \(reconnects) reconnects, seed \(seed)")
            }
        }
    }

    /// SSE with `Last-Event-ID` resumes exactly after it and ends with the terminal event.
    @Test func serverSentEventsResume() async throws {
        let source = try await TestMedia.shared.path(.small)
        let harness = SpoolHarness()
        try await OriginServer.run { origin in
            try await harness.run { client in
                let (jobId, total) = try await withSocket(client) { socket in
                    try await socket.send("start_conversion", payload: ["url": "\(origin)/media/\(source.lastPathComponent)", "format": "mp3"])
                    let jobId = try #require(try await socket.next(where: { $0.type == "conversion_started" }).jobId)
                    let events = try await socket.events(of: jobId)
                    return (jobId, events.last?.seq ?? 0)
                }
                let response = try await client.execute(
                    uri: "/api/conversions/\(jobId)/events", method: .get, headers: [HTTPField.Name("Last-Event-ID")!: "3"]
                )
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/event-stream")
                let events = SSEParser.parse(String(buffer: response.body))
                #expect(events.first?.event == "job_state")
                let resumed = events.dropFirst()
                #expect(resumed.map(\.id) == Array(4...total).map(String.init))
                #expect(resumed.last?.event == "conversion_completed")
                #expect(resumed.allSatisfy { Frame(text: $0.data).seq.map(String.init) == $0.id })

                let polled = try await client.execute(uri: "/api/conversions/\(jobId)", method: .get)
                #expect(Frame(text: #"{"payload":\#(String(buffer: polled.body))}"#).seq == total)
            }
        }
    }

    /// One job, many subscribers; many jobs, one connection; and subscriptions return to zero
    /// when the clients leave while the jobs are still running.
    @Test func fanOutBothWaysAndNoLeaks() async throws {
        let source = try await TestMedia.shared.path(.small)
        let harness = SpoolHarness(concurrentJobs: 4)
        try await OriginServer.run { origin in
            try await harness.run { client in
                let url = "\(origin)/slow/\(source.lastPathComponent)?rate=300000"
                // Many jobs on one connection.
                let jobIds = try await withSocket(client) { socket in
                    var ids: [String] = []
                    for quality in ["96", "128", "160", "192"] {
                        try await socket.send("start_conversion", payload: ["url": url, "format": "mp3", "quality": quality])
                        ids.append(try #require(try await socket.next(where: { $0.type == "conversion_started" }).jobId))
                    }
                    return ids
                }
                // The connection left while the jobs run: nothing stays subscribed.
                try await waitForSubscriptions(client, toBe: 0)

                // Many subscribers on one job, all told everything to the end.
                let watched = jobIds[0]
                let endings = try await withThrowingTaskGroup(of: [Frame].self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            try await withSocket(client) { socket in
                                try await socket.send("subscribe_job", payload: ["jobId": watched, "after": 1])
                                return try await socket.events(of: watched)
                            }
                        }
                    }
                    var all: [[Frame]] = []
                    for try await frames in group { all.append(frames) }
                    return all
                }
                #expect(endings.count == 8)
                #expect(endings.allSatisfy { $0.last?.type == "conversion_completed" })
                let finalSeqs = Set(endings.compactMap { $0.last?.seq })
                #expect(finalSeqs.count == 1)
                try await waitForSubscriptions(client, toBe: 0)

                // Cancel the rest so the test ends promptly; every job must end.
                for id in jobIds.dropFirst() { _ = try await client.execute(uri: "/api/conversions/\(id)", method: .delete) }
            }
        }
    }

    /// A client that stops reading while its job runs does not hold up another client's updates.
    @Test func stalledReaderDoesNotSlowOthers() async throws {
        let source = try await TestMedia.shared.path(.small)
        let harness = SpoolHarness()
        try await OriginServer.run { origin in
            try await harness.run { client in
                let url = "\(origin)/slow/\(source.lastPathComponent)?rate=400000"
                let jobId = try await withSocket(client) { socket in
                    try await socket.send("start_conversion", payload: ["url": url, "format": "mp3"])
                    return try #require(try await socket.next(where: { $0.type == "conversion_started" }).jobId)
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        // Subscribes, then never reads again until the other client is done.
                        try await withSocket(client) { socket in
                            try await socket.send("subscribe_job", payload: ["jobId": jobId, "after": 0])
                            _ = try await socket.next()
                            try await Task.sleep(for: .seconds(15))
                        }
                    }
                    let frames = try await withSocket(client) { socket in
                        try await socket.send("subscribe_job", payload: ["jobId": jobId, "after": 0])
                        return try await socket.events(of: jobId)
                    }
                    #expect(frames.last?.type == "conversion_completed")
                    group.cancelAll()
                }
            }
        }
    }

    func waitForSubscriptions(_ client: some TestClientProtocol, toBe count: Int) async throws {
        for _ in 0..<100 {
            let info = try await client.execute(uri: "/api/ws/info", method: .get)
            if String(buffer: info.body).contains(#""subscriptions":\#(count),"#) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        let info = try await client.execute(uri: "/api/ws/info", method: .get)
        Issue.record("subscriptions did not return to \(count): \(String(buffer: info.body))")
    }
}

/// A deterministic generator, so a failing random run can be replayed from its printed seed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Splits an SSE body into events.
enum SSEParser {
    struct Event: Equatable {
        var id: String?
        var event: String?
        var data: String
    }

    static func parse(_ body: String) -> [Event] {
        body.components(separatedBy: "\n\n").compactMap { block in
            var event = Event(data: "")
            var hasData = false
            for line in block.split(separator: "\n") where !line.hasPrefix(":") {
                if line.hasPrefix("id: ") { event.id = String(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { event.event = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") {
                    event.data = String(line.dropFirst(6))
                    hasData = true
                }
            }
            return hasData ? event : nil
        }
    }
}
