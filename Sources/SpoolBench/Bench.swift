import ArgumentParser
import Foundation
import NIOCore
import Synchronization

/// Spool's load client: see BENCHMARKS.md and scripts/bench.
@main
struct SpoolBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "SpoolBench",
        abstract: "Measures a running Spool server (push latency, idle connections, fan-out, pipeline overhead, idle cost).",
        subcommands: [Idle.self, Latency.self, Fanout.self, Pipeline.self, Baseline.self]
    )
}

struct ServerOptions: ParsableArguments {
    @Option(help: "Server address.") var host = "127.0.0.1"
    @Option(help: "Server port.") var port = 8080
    @Option(help: "Server pid (for RSS/CPU); found from the listening port when absent.") var pid: Int32?
    @Option(help: "Client event-loop threads.") var threads = 1

    func serverPID() -> Int32? { pid ?? ProcFS.pidListening(port: port) }

    func info() -> [String: Any] {
        guard let response = try? httpRequest(host: host, port: port, path: "/api/ws/info") else { return [:] }
        return jsonObject(response.body)
    }
}

func intValue(_ any: Any?) -> Int { (any as? NSNumber)?.intValue ?? 0 }

// MARK: idle

struct Idle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Hold N established WebSocket connections; server RSS per connection.")
    @OptionGroup var server: ServerOptions
    @Option(help: "Connections to open.") var connections = 1000
    @Option(help: "Seconds to hold them before measuring.") var hold = 5.0
    @Option(help: "Handshakes in flight at once.") var window = 200
    @Flag(help: "Offer permessage-deflate as browsers do, and send the ping compressed.") var deflate = false

    func run() async throws {
        let limit = raiseFileLimit()
        guard let pid = server.serverPID() else { throw BenchError("server pid not found") }
        let sources = sourceAddresses(for: connections)
        let client = Client(threads: server.threads, host: server.host, port: server.port, sources: sources, offerDeflate: deflate)
        try await Task.sleep(for: .seconds(1))
        let rssBefore = ProcFS.rss(pid: pid) ?? 0
        let threadsBefore = ProcFS.threads(pid: pid) ?? 0
        let cpu0 = selfCPUSeconds(), serverCPU0 = ProcFS.cpuSeconds(pid: pid) ?? 0
        let clock = ContinuousClock(), start = clock.now
        log("opening \(connections) connections (fd limit \(limit), sources \(sources.isEmpty ? "default" : sources.joined(separator: ",")))")
        let conns = try await client.open(connections, window: window)
        let compressed = conns.filter(\.deflate).count
        if deflate, compressed != connections { throw BenchError("permessage-deflate accepted on \(compressed) of \(connections) connections") }
        let openSeconds = (clock.now - start).seconds
        let cpuOpen = selfCPUSeconds() - cpu0, serverCPUOpen = (ProcFS.cpuSeconds(pid: pid) ?? 0) - serverCPU0
        log("all \(connections) established in \(fmt(openSeconds)) s; holding \(hold) s")
        try await Task.sleep(for: .seconds(hold))
        let rssAfter = ProcFS.rss(pid: pid) ?? 0
        let info = server.info()
        let reported = intValue(info["connections"])
        let threadsAfter = ProcFS.threads(pid: pid) ?? 0
        let perConnection = Double(rssAfter - rssBefore) / Double(connections)
        let serverCPUIdle0 = ProcFS.cpuSeconds(pid: pid) ?? 0
        try await Task.sleep(for: .seconds(2))
        let serverIdleCPU = ((ProcFS.cpuSeconds(pid: pid) ?? 0) - serverCPUIdle0) / 2
        let clientRSS = selfRSS()
        await client.close(conns)
        await client.shutdown()
        report(
            "idle",
            rows: [
                ("connections", "\(connections)" + (deflate ? " (permessage-deflate, compressed ping)" : "")),
                ("/api/ws/info connections", "\(reported)" + (reported == connections ? " (matches)" : " (MISMATCH)")),
                ("time to establish", "\(fmt(openSeconds)) s (\(fmt(Double(connections) / openSeconds, 0)) conn/s)"),
                ("server RSS before", mib(rssBefore)),
                ("server RSS holding", mib(rssAfter)),
                ("server RSS per connection", "\(fmt(perConnection / 1024, 2)) KiB"),
                ("server threads", "\(threadsBefore) -> \(threadsAfter)"),
                ("server CPU while connecting", "\(fmt(serverCPUOpen)) s"),
                ("server CPU holding (cores)", fmt(serverIdleCPU, 3)),
                ("client CPU while connecting", "\(fmt(cpuOpen)) s"),
                ("client RSS", mib(clientRSS)),
            ],
            json: [
                "connections": connections, "deflate": deflate, "reported_connections": reported, "establish_seconds": openSeconds,
                "rss_before_bytes": rssBefore, "rss_after_bytes": rssAfter, "rss_per_connection_bytes": perConnection,
                "server_cpu_connect_s": serverCPUOpen, "client_cpu_connect_s": cpuOpen, "server_idle_cores": serverIdleCPU,
                "client_rss_bytes": clientRSS,
            ]
        )
    }
}

// MARK: latency

/// Counts finished jobs across connections.
final class Finish: Sendable {
    let done = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
}

struct Latency: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "N jobs printing progress; push latency from the fake tool's stamp to the client.")
    @OptionGroup var server: ServerOptions
    @Option(help: "Jobs to run at once.") var jobs = 100
    @Option(help: "Jobs started per connection.") var jobsPerConnection = 1
    @Option(help: "Progress lines each fake download prints.") var lines = 50
    @Option(name: .customLong("interval-ms"), help: "Milliseconds between the fake download's lines.") var intervalMs = 100
    @Option(help: "Give up after this many seconds.") var timeout = 180.0
    @Option(help: "Submissions in flight at once.") var window = 200
    @Flag(inversion: .prefixedNo, help: "Hold every download's lines until all jobs run (steady state); --no-gate measures from submission on.")
    var gate = true

    func run() async throws {
        raiseFileLimit()
        let pid = server.serverPID()
        let connectionCount = (jobs + jobsPerConnection - 1) / jobsPerConnection
        let client = Client(threads: server.threads, host: server.host, port: server.port, sources: sourceAddresses(for: connectionCount))
        let finish = Finish()
        log("opening \(connectionCount) connections")
        let conns = try await client.open(connectionCount) { index in
            Connection(index: index) { kind in
                finish.done.add(1, ordering: .relaxed)
                if kind != .completed { finish.failed.add(1, ordering: .relaxed) }
            }
        }
        let gatePath = NSTemporaryDirectory() + "spool-bench-gate-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(gatePath) }
        let url = "http://bench.invalid/v.mp4?lines=\(lines)&interval_ms=\(intervalMs)&bytes=1000000&duration=10" + (gate ? "&gate=\(gatePath)" : "")
        let cpu0 = selfCPUSeconds(), serverCPU0 = pid.flatMap { ProcFS.cpuSeconds(pid: $0) } ?? 0
        let clock = ContinuousClock(), start = clock.now
        log("starting \(jobs) jobs (\(lines) lines every \(intervalMs) ms each)")
        var pending: [EventLoopFuture<String>] = []
        var submitted = 0
        for job in 0..<jobs {
            pending.append(conns[job % connectionCount].start(url: url, format: "mp4", quality: "720"))
            if pending.count >= window {
                for future in pending { _ = try await future.get() }
                submitted += pending.count
                pending.removeAll()
            }
        }
        for future in pending { _ = try await future.get() }
        let submitSeconds = (clock.now - start).seconds
        log("all \(jobs) accepted in \(fmt(submitSeconds)) s")
        var runningSeconds = Double.nan
        var framesBeforeGate = 0, maxBeforeGate = 0
        var serverCPUBeforeGate = 0.0
        if gate {
            // Wait until every job runs (the fake downloads sit at the gate), then until the frames of
            // that start-up (queue positions, phase changes) have been delivered, then open the gate.
            while (clock.now - start).seconds < timeout {
                let info = server.info()
                if intValue(info["runningJobs"]) >= jobs && intValue(info["queuedJobs"]) == 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            runningSeconds = (clock.now - start).seconds
            var last = -1
            while (clock.now - start).seconds < timeout {
                var total = 0
                for connection in conns { total += try await connection.snapshot().get().frames }
                if total == last { break }
                last = total
                try await Task.sleep(for: .milliseconds(500))
            }
            for connection in conns {
                let snap = try await connection.snapshot().get()
                framesBeforeGate += snap.frames
                maxBeforeGate = max(maxBeforeGate, snap.frames)
                try await connection.resetCounters().get()
            }
            serverCPUBeforeGate = (pid.flatMap { ProcFS.cpuSeconds(pid: $0) } ?? 0) - serverCPU0
            log("all \(jobs) running after \(fmt(runningSeconds)) s (\(framesBeforeGate) frames so far, at most \(maxBeforeGate) on one connection); opening the gate")
            _ = FileManager.default.createFile(atPath: gatePath, contents: nil)
        }
        let measureStart = clock.now
        let cpuMeasure0 = selfCPUSeconds(), serverCPUMeasure0 = pid.flatMap { ProcFS.cpuSeconds(pid: $0) } ?? 0
        log("waiting for the jobs to finish")
        var peakRSS = 0
        while finish.done.load(ordering: .relaxed) < jobs && (clock.now - start).seconds < timeout {
            try await Task.sleep(for: .milliseconds(250))
            if let pid { peakRSS = max(peakRSS, ProcFS.rss(pid: pid) ?? 0) }
        }
        let wall = (clock.now - measureStart).seconds
        let clientCPU = selfCPUSeconds() - cpuMeasure0
        let serverCPU = (pid.flatMap { ProcFS.cpuSeconds(pid: $0) } ?? 0) - serverCPUMeasure0
        _ = cpu0
        var samples: [Int32] = []
        var stamps: [Int64] = []
        var frames = 0
        var lastProblem = ""
        var maxFrames = 0
        for connection in conns {
            let snap = try await connection.snapshot().get()
            samples += snap.latencies
            stamps += snap.stamps
            frames += snap.frames
            maxFrames = max(maxFrames, snap.frames)
            if !snap.lastText.isEmpty { lastProblem = snap.lastText }
        }
        await client.close(conns)
        await client.shutdown()
        let done = finish.done.load(ordering: .relaxed), failed = finish.failed.load(ordering: .relaxed)
        let p = Percentiles(samples)
        let expected = jobs * (lines + 1)  // every line and the finished line carry a stamp
        let steadyWindow = Int64(lines - 1) * Int64(intervalMs) * 1000
        let steady = Self.steadyState(samples: samples, stamps: stamps, before: steadyWindow)
        let steadyText: String = steady.map { "\(fmt($0.p50)) / \(fmt($0.p99)) ms (\($0.count) samples)" } ?? "-"
        report(
            "latency",
            rows: [
                ("jobs", "\(jobs) on \(connectionCount) connections (\(lines) lines x \(intervalMs) ms)"),
                ("finished / failed", "\(done) / \(failed)" + (done < jobs ? "  (TIMED OUT)" : "")),
                ("mode", gate ? "gated: lines start once all \(jobs) run (after \(fmt(runningSeconds)) s; \(framesBeforeGate) start-up frames, at most \(maxBeforeGate) on one connection; \(fmt(serverCPUBeforeGate)) s server CPU)" : "ungated: from submission on"),
                ("latency samples", "\(p.count) of \(expected) stamped lines"),
                ("p50 / p90 / p99 / p99.9", "\(fmt(p.p50)) / \(fmt(p.p90)) / \(fmt(p.p99)) / \(fmt(p.p999)) ms"),
                ("max / mean", "\(fmt(p.max)) / \(fmt(p.mean)) ms"),
                ("while all download: p50 / p99", steadyText),
                ("p99 by half second", Self.timeline(samples: samples, stamps: stamps).map { "\(fmt($0.second, 1)): \(fmt($0.p99))" }.joined(separator: ", ")),
                ("frames received (measured)", "\(frames) in \(fmt(wall)) s (at most \(maxFrames) on one connection)"),
                ("submit time", "\(fmt(submitSeconds)) s"),
                ("server CPU", "\(fmt(serverCPU)) s (\(fmt(serverCPU / wall)) cores)"),
                ("server peak RSS", mib(peakRSS)),
                ("client CPU", "\(fmt(clientCPU)) s (\(fmt(clientCPU / wall)) cores)"),
            ] + (lastProblem.isEmpty ? [] : [("last failure", String(lastProblem.prefix(300)))]),
            json: [
                "jobs": jobs, "connections": connectionCount, "finished": done, "failed": failed, "latency": p.json, "frames": frames,
                "wall_s": wall, "server_cpu_s": serverCPU, "client_cpu_s": clientCPU, "server_peak_rss_bytes": peakRSS,
                "lines": lines, "interval_ms": intervalMs, "gated": gate, "all_running_s": runningSeconds,
                "steady_latency": steady?.json ?? [:],
                "startup_frames": framesBeforeGate, "startup_max_frames_per_connection": maxBeforeGate, "startup_server_cpu_s": serverCPUBeforeGate,
            ]
        )
        if failed > 0 || done < jobs { throw ExitCode(1) }
    }

    /// The samples of the lines printed before any download can have ended (every line takes at
    /// least the interval, so none ends before `lines × interval`): the steady state of N running
    /// jobs, without the moment they all start their transcodes together.
    static func steadyState(samples: [Int32], stamps: [Int64], before offset: Int64) -> Percentiles? {
        guard let origin = stamps.min() else { return nil }
        return Percentiles(zip(samples, stamps).filter { $0.1 - origin < offset }.map(\.0))
    }

    /// p99 (ms) of the samples whose line was printed in each half second since the first, so a
    /// tail can be placed in the run (start, steady state, the moment the downloads end together).
    static func timeline(samples: [Int32], stamps: [Int64]) -> [(second: Double, p99: Double)] {
        guard let origin = stamps.min() else { return [] }
        var buckets: [Int: [Int32]] = [:]
        for (sample, stamp) in zip(samples, stamps) { buckets[Int((stamp - origin) / 500_000), default: []].append(sample) }
        return buckets.keys.sorted().map { (second: Double($0) / 2, p99: Percentiles(buckets[$0] ?? []).p99) }
    }
}

// MARK: fanout

struct Fanout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One job, N subscribers; delivered messages per second and latency.")
    @OptionGroup var server: ServerOptions
    @Option(help: "Subscriber connections.") var subscribers = 10_000
    @Option(help: "Jobs to follow (each subscriber follows all of them).") var jobs = 1
    @Option(help: "Progress lines the fake download prints.") var lines = 2000
    @Option(name: .customLong("interval-ms"), help: "Milliseconds between lines.") var intervalMs = 5
    @Option(help: "Give up after this many seconds.") var timeout = 120.0

    func run() async throws {
        raiseFileLimit()
        let pid = server.serverPID()
        let client = Client(threads: server.threads, host: server.host, port: server.port, sources: sourceAddresses(for: subscribers + 1))
        let finish = Finish()
        log("opening \(subscribers) subscriber connections")
        let subs = try await client.open(subscribers) { index in
            let connection = Connection(index: index + 1) { _ in finish.done.add(1, ordering: .relaxed) }
            return connection
        }
        let driver = try await client.open(1).first!
        // The download waits at a gate until every subscriber is in, so subscribing replays only the
        // first few events and the measured run is the live fan-out alone.
        let gatePath = NSTemporaryDirectory() + "spool-bench-gate-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(gatePath) }
        let url = "http://bench.invalid/v.mp4?lines=\(lines)&interval_ms=\(intervalMs)&bytes=1000000&duration=10&gate=\(gatePath)"
        var jobIDs: [String] = []
        for _ in 0..<jobs { jobIDs.append(try await driver.start(url: url, format: "mp4", quality: "720").get()) }
        log("jobs \(jobIDs.joined(separator: ",")); subscribing")
        let subscribeStart = ContinuousClock.now
        for chunk in stride(from: 0, to: subs.count, by: 500) {
            var futures: [EventLoopFuture<Void>] = []
            for connection in subs[chunk..<min(chunk + 500, subs.count)] {
                for id in jobIDs { futures.append(connection.subscribe(jobID: id)) }
            }
            for future in futures { try await future.get() }
        }
        let subscribeSeconds = (ContinuousClock.now - subscribeStart).seconds
        try await Task.sleep(for: .milliseconds(500))
        for connection in subs { try await connection.resetCounters().get() }
        finish.done.store(0, ordering: .relaxed)
        _ = FileManager.default.createFile(atPath: gatePath, contents: nil)
        let cpu0 = selfCPUSeconds(), serverCPU0 = pid.flatMap { ProcFS.cpuSeconds(pid: $0) } ?? 0
        let clock = ContinuousClock(), start = clock.now
        log("subscribed; measuring until every subscriber saw the end")
        let target = subscribers * jobs
        var peakRSS = 0
        while finish.done.load(ordering: .relaxed) < target && (clock.now - start).seconds < timeout {
            try await Task.sleep(for: .milliseconds(200))
            if let pid { peakRSS = max(peakRSS, ProcFS.rss(pid: pid) ?? 0) }
        }
        let wall = (clock.now - start).seconds
        let clientCPU = selfCPUSeconds() - cpu0
        let serverCPU = (pid.flatMap { ProcFS.cpuSeconds(pid: $0) } ?? 0) - serverCPU0
        var samples: [Int32] = []
        var frames = 0, progress = 0
        var first = Int64.max, last: Int64 = 0
        for connection in subs {
            let snap = try await connection.snapshot().get()
            samples += snap.latencies
            frames += snap.frames
            progress += snap.progressFrames
            if snap.firstFrameAt > 0 { first = min(first, snap.firstFrameAt) }
            last = max(last, snap.lastFrameAt)
        }
        let info = server.info()
        await client.close(subs + [driver])
        await client.shutdown()
        let span = last > first ? Double(last - first) / 1e6 : 0
        let rate = span > 0 ? Double(frames) / span : 0
        let p = Percentiles(samples)
        report(
            "fanout",
            rows: [
                ("subscribers x jobs", "\(subscribers) x \(jobs) (\(lines) lines every \(intervalMs) ms)"),
                ("subscribe time", "\(fmt(subscribeSeconds)) s"),
                ("subscribers that saw the end", "\(finish.done.load(ordering: .relaxed)) of \(target)"),
                ("frames received", "\(frames) (\(progress) progress_update) over \(fmt(span)) s"),
                ("delivered messages/s", fmt(rate, 0)),
                ("latency p50 / p99 / max", "\(fmt(p.p50)) / \(fmt(p.p99)) / \(fmt(p.max)) ms (\(p.count) samples)"),
                ("server CPU", "\(fmt(serverCPU)) s (\(fmt(serverCPU / wall)) cores)"),
                ("server peak RSS", mib(peakRSS)),
                ("client CPU", "\(fmt(clientCPU)) s (\(fmt(clientCPU / wall)) cores)"),
                ("server messagesSent", "\(intValue(info["messagesSent"]))"),
            ],
            json: [
                "subscribers": subscribers, "jobs": jobs, "frames": frames, "progress_frames": progress, "span_s": span,
                "messages_per_second": rate, "latency": p.json, "server_cpu_s": serverCPU, "client_cpu_s": clientCPU, "wall_s": wall,
                "server_peak_rss_bytes": peakRSS, "server_messages_sent": intValue(info["messagesSent"]),
            ]
        )
    }
}

// MARK: baseline

struct Baseline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Server RSS and CPU while idle.")
    @OptionGroup var server: ServerOptions
    @Option(help: "Seconds to watch.") var seconds = 10.0

    func run() async throws {
        guard let pid = server.serverPID() else { throw BenchError("server pid not found") }
        let rss0 = ProcFS.rss(pid: pid) ?? 0
        let cpu0 = ProcFS.cpuSeconds(pid: pid) ?? 0
        try await Task.sleep(for: .seconds(seconds))
        let cpu1 = ProcFS.cpuSeconds(pid: pid) ?? 0
        let rss1 = ProcFS.rss(pid: pid) ?? 0
        let threads = ProcFS.threads(pid: pid) ?? 0
        report(
            "baseline",
            rows: [
                ("server RSS", "\(mib(rss0)) -> \(mib(rss1))"),
                ("server CPU over \(fmt(seconds, 0)) s", "\(fmt(cpu1 - cpu0, 3)) s (\(fmt((cpu1 - cpu0) / seconds * 100, 3)) % of a core)"),
                ("server threads", "\(threads)"),
            ],
            json: ["rss_bytes": rss1, "cpu_s": cpu1 - cpu0, "seconds": seconds, "threads": threads]
        )
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
