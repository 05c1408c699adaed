import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// Microseconds since the Unix epoch (CLOCK_REALTIME), the clock the fake tools stamp lines with.
@inline(__always) func realtimeMicros() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
}

/// What the client looks for in server frames, found by byte search (no JSON decoding per frame,
/// so the client stays far cheaper than the server it measures).
enum Needle {
    static let pong = Array(#""type":"pong""#.utf8)
    static let started = Array(#""type":"conversion_started""#.utf8)
    static let progress = Array(#""type":"progress_update""#.utf8)
    static let completed = Array(#""type":"conversion_completed""#.utf8)
    static let failed = Array(#""type":"conversion_failed""#.utf8)
    static let cancelled = Array(#""type":"conversion_cancelled""#.utf8)
    static let jobState = Array(#""type":"job_state""#.utf8)
    static let error = Array(#""type":"error""#.utf8)
    static let download = Array(#""currentStep":"download""#.utf8)
    static let speed = Array(#""speedBytesPerSecond":"#.utf8)
    static let jobId = Array(#""jobId":""#.utf8)
}

@inline(__always) func find(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int? {
    guard let base = bytes.baseAddress, bytes.count >= needle.count else { return nil }
    _ = base
    let first = needle[0]
    let last = bytes.count - needle.count
    var i = 0
    while i <= last {
        if bytes[i] == first {
            var j = 1
            while j < needle.count && bytes[i + j] == needle[j] { j += 1 }
            if j == needle.count { return i }
        }
        i += 1
    }
    return nil
}

/// The parts of a connection's state the scenarios read. Touched only on the connection's event
/// loop, then read once the run is over (through `snapshot`).
final class Connection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    enum Terminal { case completed, failed, cancelled }

    let index: Int
    var channel: (any Channel)?
    /// The server accepted permessage-deflate: messages go out compressed, as a browser's do.
    var deflate = false
    // Counters.
    var frames = 0
    var progressFrames = 0
    var errors = 0
    var firstFrameAt: Int64 = 0
    var lastFrameAt: Int64 = 0
    /// Latency samples in microseconds (download-phase progress_update with a stamped speed).
    var latencies: [Int32] = []
    /// When each sample's line was printed (the stamp, µs since the epoch), in step with `latencies`.
    var stamps: [Int64] = []
    var recordAllProgress = false
    /// Job ids of conversion_started replies, in order.
    var jobIDs: [String] = []
    var terminals = 0
    var failures = 0
    var lastText = ""

    // Waiters (fulfilled on the event loop).
    var pongPromise: EventLoopPromise<Void>?
    var startedPromise: EventLoopPromise<String>?
    var terminalPromise: EventLoopPromise<Terminal>?
    var jobStatePromise: EventLoopPromise<Void>?
    let onTerminal: (@Sendable (Terminal) -> Void)?

    private var fragment: ByteBuffer?

    init(index: Int, onTerminal: (@Sendable (Terminal) -> Void)? = nil) {
        self.index = index
        self.onTerminal = onTerminal
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .continuation:
            var data = frame.unmaskedData
            if !frame.fin {
                if fragment == nil { fragment = data } else { fragment!.writeBuffer(&data) }
                return
            }
            if var pending = fragment {
                pending.writeBuffer(&data)
                fragment = nil
                data = pending
            }
            handleText(data)
        case .ping:
            var pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            pong.maskKey = .random()
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            context.close(promise: nil)
        default:
            break
        }
    }

    private static let dump = ProcessInfo.processInfo.environment["BENCH_DUMP"] != nil

    private func handleText(_ buffer: ByteBuffer) {
        let now = realtimeMicros()
        if Self.dump && index == 0 { FileHandle.standardError.write(Data((String(buffer: buffer) + "\n").utf8)) }
        frames += 1
        if firstFrameAt == 0 { firstFrameAt = now }
        lastFrameAt = now
        buffer.withUnsafeReadableBytes { bytes in
            if find(Needle.progress, in: bytes) != nil {
                progressFrames += 1
                if recordAllProgress || find(Needle.download, in: bytes) != nil, let at = find(Needle.speed, in: bytes) {
                    let start = at + Needle.speed.count
                    var text = [CChar](repeating: 0, count: 32)
                    let count = min(31, bytes.count - start)
                    for i in 0..<count { text[i] = CChar(bitPattern: bytes[start + i]) }
                    let value = strtod(text, nil)
                    // Only stamps (microseconds since 2020) are latency samples; real speeds are far smaller.
                    if value > 1.5e15 {
                        let latency = now - Int64(value)
                        latencies.append(Int32(clamping: max(0, latency)))
                        stamps.append(Int64(value))
                    }
                }
                return
            }
            if find(Needle.pong, in: bytes) != nil {
                pongPromise?.succeed()
                pongPromise = nil
                return
            }
            if find(Needle.started, in: bytes) != nil, let at = find(Needle.jobId, in: bytes) {
                let start = at + Needle.jobId.count
                var end = start
                while end < bytes.count && bytes[end] != UInt8(ascii: "\"") { end += 1 }
                let id = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
                jobIDs.append(id)
                startedPromise?.succeed(id)
                startedPromise = nil
                return
            }
            if find(Needle.jobState, in: bytes) != nil {
                jobStatePromise?.succeed()
                jobStatePromise = nil
                // A snapshot of a finished job counts as its end too.
                if find(Array(#""status":"completed""#.utf8), in: bytes) != nil { terminal(.completed) }
                return
            }
            var kind: Terminal?
            if find(Needle.completed, in: bytes) != nil { kind = .completed }
            else if find(Needle.failed, in: bytes) != nil { kind = .failed }
            else if find(Needle.cancelled, in: bytes) != nil { kind = .cancelled }
            if let kind {
                if kind != .completed { lastText = String(buffer: buffer) }
                terminal(kind)
                return
            }
            if find(Needle.error, in: bytes) != nil {
                errors += 1
                lastText = String(buffer: buffer)
                startedPromise?.fail(BenchError("server error: \(lastText)"))
                startedPromise = nil
            }
        }
    }

    private func terminal(_ kind: Terminal) {
        terminals += 1
        if kind != .completed { failures += 1 }
        terminalPromise?.succeed(kind)
        terminalPromise = nil
        onTerminal?(kind)
    }

    func channelInactive(context: ChannelHandlerContext) {
        pongPromise?.fail(BenchError("connection \(index) closed"))
        startedPromise?.fail(BenchError("connection \(index) closed"))
        terminalPromise?.fail(BenchError("connection \(index) closed"))
        jobStatePromise?.fail(BenchError("connection \(index) closed"))
        pongPromise = nil; startedPromise = nil; terminalPromise = nil; jobStatePromise = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    // MARK: Sending (from any thread)

    func send(_ text: String) {
        guard let channel else { return }
        channel.eventLoop.execute {
            var buffer = channel.allocator.buffer(capacity: text.utf8.count + 6)
            if self.deflate {
                // One "stored" deflate block (RFC 1951 §3.2.4) plus what is left of the sync flush
                // once its 00 00 ff ff is dropped (RFC 7692 §7.2.1): real deflate data, which the
                // server must inflate, without a zlib dependency in the bench client.
                let count = UInt16(text.utf8.count)
                buffer.writeInteger(UInt8(0))
                buffer.writeInteger(count, endianness: .little)
                buffer.writeInteger(~count, endianness: .little)
                buffer.writeString(text)
                buffer.writeInteger(UInt8(0))
            } else {
                buffer.writeString(text)
            }
            let frame = WebSocketFrame(fin: true, rsv1: self.deflate, opcode: .text, maskKey: .random(), data: buffer)
            channel.writeAndFlush(frame, promise: nil)
        }
    }

    /// Sends `ping` and completes when `pong` arrives.
    func ping() -> EventLoopFuture<Void> {
        let channel = self.channel!
        return channel.eventLoop.flatSubmit {
            let promise = channel.eventLoop.makePromise(of: Void.self)
            self.pongPromise = promise
            self.send(#"{"type":"ping"}"#)
            return promise.futureResult
        }
    }

    /// Sends `start_conversion` and completes with the job id from `conversion_started`.
    func start(url: String, format: String, quality: String) -> EventLoopFuture<String> {
        let channel = self.channel!
        let text = #"{"type":"start_conversion","id":"b","payload":{"url":"\#(url)","format":"\#(format)","quality":"\#(quality)"}}"#
        return channel.eventLoop.flatSubmit {
            let promise = channel.eventLoop.makePromise(of: String.self)
            self.startedPromise = promise
            self.send(text)
            return promise.futureResult
        }
    }

    func subscribe(jobID: String) -> EventLoopFuture<Void> {
        let channel = self.channel!
        return channel.eventLoop.flatSubmit {
            let promise = channel.eventLoop.makePromise(of: Void.self)
            self.jobStatePromise = promise
            self.send(#"{"type":"subscribe_job","id":"s","payload":{"jobId":"\#(jobID)"}}"#)
            return promise.futureResult
        }
    }

    func waitTerminal() -> EventLoopFuture<Terminal> {
        let channel = self.channel!
        return channel.eventLoop.flatSubmit {
            let promise = channel.eventLoop.makePromise(of: Terminal.self)
            self.terminalPromise = promise
            return promise.futureResult
        }
    }

    struct Snapshot: Sendable {
        var frames: Int
        var progressFrames: Int
        var latencies: [Int32]
        var stamps: [Int64]
        var terminals: Int
        var failures: Int
        var errors: Int
        var firstFrameAt: Int64
        var lastFrameAt: Int64
        var lastText: String
    }

    func snapshot() -> EventLoopFuture<Snapshot> {
        guard let channel else {
            return MultiThreadedEventLoopGroup.singleton.next().makeSucceededFuture(
                Snapshot(frames: 0, progressFrames: 0, latencies: [], stamps: [], terminals: 0, failures: 0, errors: 0, firstFrameAt: 0, lastFrameAt: 0, lastText: "")
            )
        }
        return channel.eventLoop.submit {
            Snapshot(
                frames: self.frames, progressFrames: self.progressFrames, latencies: self.latencies, stamps: self.stamps, terminals: self.terminals,
                failures: self.failures, errors: self.errors, firstFrameAt: self.firstFrameAt, lastFrameAt: self.lastFrameAt, lastText: self.lastText
            )
        }
    }

    func resetCounters() -> EventLoopFuture<Void> {
        guard let channel else { return MultiThreadedEventLoopGroup.singleton.next().makeSucceededVoidFuture() }
        return channel.eventLoop.submit {
            self.frames = 0
            self.progressFrames = 0
            self.latencies.removeAll()
            self.stamps.removeAll()
            self.firstFrameAt = 0
            self.lastFrameAt = 0
        }
    }
}

/// Sends the HTTP upgrade request once the TCP connection is up.
private final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    let host: String
    let path: String
    let offerDeflate: Bool

    init(host: String, path: String, offerDeflate: Bool) {
        self.host = host
        self.path = path
        self.offerDeflate = offerDeflate
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host)
        headers.add(name: "Content-Length", value: "0")
        // What Chrome and Firefox send.
        if offerDeflate { headers.add(name: "Sec-WebSocket-Extensions", value: "permessage-deflate; client_max_window_bits") }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A response that is not an upgrade: the server refused.
        context.close(promise: nil)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Opens WebSocket connections to Spool's `/api/ws` with NIO's own handlers: no task per
/// connection, a few hundred bytes of state each.
final class Client: Sendable {
    let group: MultiThreadedEventLoopGroup
    let host: String
    let port: Int
    let sources: [String]
    /// Offer permessage-deflate like a browser, and compress what is sent if the server accepts.
    /// Only for scenarios whose server frames stay small (the client does not inflate).
    let offerDeflate: Bool

    init(threads: Int, host: String, port: Int, sources: [String], offerDeflate: Bool = false) {
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.host = host
        self.port = port
        self.sources = sources
        self.offerDeflate = offerDeflate
    }

    func connect(_ connection: Connection) -> EventLoopFuture<Connection> {
        let host = self.host, offerDeflate = self.offerDeflate
        let upgraded = group.next().makePromise(of: Void.self)
        var bootstrap = ClientBootstrap(group: group)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(30))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: 1 << 20, automaticErrorHandling: false) { channel, response in
                        channel.eventLoop.makeCompletedFuture {
                            connection.deflate = response.headers["Sec-WebSocket-Extensions"].contains { $0.contains("permessage-deflate") }
                            try channel.pipeline.syncOperations.addHandler(connection)
                            upgraded.succeed()
                        }
                    }
                    let request = UpgradeRequestHandler(host: host, path: "/api/ws", offerDeflate: offerDeflate)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { context in
                            context.pipeline.syncOperations.removeHandler(request, promise: nil)
                        })
                    )
                    try channel.pipeline.syncOperations.addHandler(request)
                }
            }
        if !sources.isEmpty {
            let source = sources[connection.index % sources.count]
            bootstrap = bootstrap.bind(to: try! SocketAddress(ipAddress: source, port: 0))
        }
        return bootstrap.connect(host: host, port: port).flatMap { channel in
            connection.channel = channel
            channel.closeFuture.whenComplete { _ in upgraded.fail(BenchError("closed before upgrade")) }
            // Bounded: a server at its connection limit leaves a new connection in its backlog.
            let deadline = channel.eventLoop.scheduleTask(in: .seconds(30)) {
                upgraded.fail(BenchError("no WebSocket upgrade within 30 s (is the server at its connection limit?)"))
                channel.close(promise: nil)
            }
            upgraded.futureResult.whenComplete { _ in deadline.cancel() }
            return upgraded.futureResult.map { connection }
        }
    }

    /// Opens `count` connections, at most `window` handshakes in flight; each answers one ping.
    func open(_ count: Int, window: Int = 200, ping: Bool = true, make: (Int) -> Connection = { Connection(index: $0) }) async throws -> [Connection] {
        var connections: [Connection] = []
        connections.reserveCapacity(count)
        var inFlight: [EventLoopFuture<Connection>] = []
        var failures = 0
        var lastError = ""
        for index in 0..<count {
            let connection = make(index)
            connections.append(connection)
            let future = connect(connection).flatMap { connection in
                ping ? connection.ping().map { connection } : connection.eventLoop.makeSucceededFuture(connection)
            }
            inFlight.append(future)
            if inFlight.count >= window {
                for future in inFlight {
                    do { _ = try await future.get() } catch { failures += 1; lastError = "\(error)" }
                }
                inFlight.removeAll(keepingCapacity: true)
            }
        }
        for future in inFlight {
            do { _ = try await future.get() } catch { failures += 1; lastError = "\(error)" }
        }
        if failures > 0 { throw BenchError("\(failures) of \(count) connections failed; last error: \(lastError)") }
        return connections
    }

    func close(_ connections: [Connection]) async {
        for chunk in stride(from: 0, to: connections.count, by: 1000) {
            let futures = connections[chunk..<min(chunk + 1000, connections.count)].compactMap { $0.channel?.close() }
            for future in futures { try? await future.get() }
        }
    }

    func shutdown() async {
        try? await group.shutdownGracefully()
    }
}

extension Connection {
    var eventLoop: any EventLoop { channel!.eventLoop }
}
