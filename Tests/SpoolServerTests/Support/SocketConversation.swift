import Foundation
import HummingbirdTesting
import HummingbirdWSClient
import HummingbirdWSTesting
import Logging
import Synchronization

/// A scripted WebSocket conversation with `/api/ws`: send frames, read frames in order.
///
/// The test's script runs inside the WebSocket client's handler; its result is carried out through
/// a lock because the handler cannot return a value.
struct SocketConversation {
    private var iterator: WebSocketInboundMessageStream.AsyncIterator
    let outbound: WebSocketOutboundWriter
    /// Every frame read so far, in order.
    private(set) var received: [Frame] = []

    init(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) {
        self.iterator = inbound.messages(maxSize: 1 << 22).makeAsyncIterator()
        self.outbound = outbound
    }

    func send(_ text: String) async throws {
        try await outbound.write(.text(text))
    }

    func send(_ type: String, id: String? = nil, payload: [String: Any]? = nil) async throws {
        try await send(clientFrame(type, id: id, payload: payload))
    }

    /// The next frame; fails when the server closes the connection.
    mutating func next() async throws -> Frame {
        while let message = try await iterator.next() {
            guard case .text(let text) = message else { continue }
            let frame = Frame(text: text)
            received.append(frame)
            return frame
        }
        throw TestFailure("the server closed the connection; frames so far: \(received.suffix(5))")
    }

    /// Reads frames until one satisfies `predicate`, returning it.
    mutating func next(where predicate: (Frame) -> Bool) async throws -> Frame {
        while true {
            let frame = try await next()
            if predicate(frame) { return frame }
        }
    }

    /// Reads a job's frames until its terminal event; returns them in order (the job's own frames only).
    mutating func events(of jobId: String) async throws -> [Frame] {
        var frames: [Frame] = []
        while true {
            let frame = try await next()
            guard frame.jobId == jobId else { continue }
            frames.append(frame)
            if frame.isTerminal { return frames }
        }
    }

    /// Sends `ping` and expects `pong`: the connection still works.
    mutating func expectAlive() async throws {
        let id = UUID().uuidString
        try await send("ping", id: id)
        _ = try await next(where: { $0.type == "pong" && $0.id == id })
    }
}

/// Opens `/api/ws` of a test client's server, runs `script` in it and returns what the script returned.
func withSocket<Value: Sendable>(
    _ client: some TestClientProtocol,
    _ script: @Sendable @escaping (inout SocketConversation) async throws -> Value
) async throws -> Value {
    guard let port = client.port else { throw TestFailure("WebSockets need a live server") }
    return try await withSocket(port: port, script)
}

/// Opens `ws://127.0.0.1:port/api/ws`, runs `script` in it and returns what the script returned.
func withSocket<Value: Sendable>(
    port: Int,
    configuration: WebSocketClientConfiguration = .init(),
    _ script: @Sendable @escaping (inout SocketConversation) async throws -> Value
) async throws -> Value {
    let result = Mutex<Result<Value, any Error>?>(nil)
    try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/api/ws", configuration: configuration, logger: Logger(label: "test-ws")) {
        inbound, outbound, _ in
        var conversation = SocketConversation(inbound: inbound, outbound: outbound)
        do {
            let value = try await script(&conversation)
            result.withLock { $0 = .success(value) }
        } catch {
            result.withLock { $0 = .failure(error) }
        }
    }
    guard let outcome = result.withLock({ $0 }) else { throw TestFailure("the WebSocket script never ran") }
    return try outcome.get()
}
