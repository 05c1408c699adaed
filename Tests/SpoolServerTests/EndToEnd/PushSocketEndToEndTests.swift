import Foundation
import HTTPTypes
import HummingbirdTesting
import HummingbirdWSClient
import HummingbirdWSCompression
import NIOCore
import Synchronization
import Testing

@testable import SpoolServer

#if canImport(Glibc)
import Glibc
#endif

/// The WebSocket protocol of `/api/ws` as Spool's own channel handler speaks it (RFC 6455 and
/// RFC 7692): what a peer is owed for every kind of frame, good or bad, and that the server keeps
/// serving afterwards.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct PushSocketEndToEndTests {
    @Test func controlFramesFragmentsAndCloseHandshake() async throws {
        try await SpoolHarness().run { client in
            let port = try #require(client.port)
            let socket = try RawWebSocket(port: port)
            #expect(socket.statusLine.hasPrefix("HTTP/1.1 101"))
            #expect(!socket.handshake.lowercased().contains("permessage-deflate"), "not offered, not accepted")

            // A ping is answered with a pong carrying the same bytes.
            try await socket.send(opcode: 0x9, Array("are you there".utf8))
            #expect(try await socket.next() == .init(opcode: 0xA, payload: Array("are you there".utf8)))

            // A message in three fragments is one message, with a control frame between them.
            let text = clientFrame("ping", id: "fragmented")
            let bytes = Array(text.utf8)
            try await socket.send(opcode: 0x1, Array(bytes[..<5]), fin: false)
            try await socket.send(opcode: 0x0, Array(bytes[5..<12]), fin: false)
            try await socket.send(opcode: 0x9, [])
            try await socket.send(opcode: 0x0, Array(bytes[12...]))
            #expect(try await socket.next()?.opcode == 0xA)
            #expect(Frame(text: try await socket.nextText()).id == "fragmented")

            // Binary is answered with a coded error, and the connection lives on.
            try await socket.send(opcode: 0x2, [1, 2, 3])
            #expect(Frame(text: try await socket.nextText()).errorCode == "BAD_MESSAGE")

            // Messages are handled one at a time, in the order sent, even when sent all at once.
            for index in 0..<40 { try await socket.send(text: clientFrame("ping", id: "burst-\(index)")) }
            for index in 0..<40 { #expect(Frame(text: try await socket.nextText()).id == "burst-\(index)") }

            // The client closes: its code is echoed, then the socket ends. (A code no peer may
            // send, like 1005, is answered with 1002: `closeCodes` below.)
            try await socket.send(opcode: 0x8, [0x03, 0xE8] + Array("bye".utf8))
            #expect(try await socket.next()?.closeCode == 1000)
            #expect(try await socket.next() == nil)
            try await waitForConnections(client, toBe: 0)
        }
    }

    /// (what the client does wrong, the close code it gets)
    static let violations: [(String, Int, @Sendable (RawWebSocket) async throws -> Void)] = [
        ("an unmasked frame", 1002, { try await $0.send(opcode: 0x1, Array("{}".utf8), masked: false) }),
        ("a continuation with no message", 1002, { try await $0.send(opcode: 0x0, Array("{}".utf8)) }),
        ("a compressed frame without deflate", 1002, { try await $0.send(opcode: 0x1, [0x01], rsv1: true) }),
        ("a new message inside a fragmented one", 1002, { socket in
            try await socket.send(opcode: 0x1, Array("{".utf8), fin: false)
            try await socket.send(opcode: 0x1, Array("}".utf8))
        }),
        ("text that is not UTF-8", 1007, { try await $0.send(opcode: 0x1, [0x22, 0xFF, 0xFE, 0x22]) }),
        ("a frame over the frame limit", 1009, { try await $0.send(opcode: 0x1, [UInt8](repeating: 0x20, count: (1 << 20) + 1)) }),
        ("fragments adding up past the message limit", 1009, { socket in
            try await socket.send(opcode: 0x1, [UInt8](repeating: 0x20, count: 700_000), fin: false)
            try await socket.send(opcode: 0x0, [UInt8](repeating: 0x20, count: 700_000), fin: false)
        }),
    ]

    @Test func protocolViolationsCloseWithTheirCode() async throws {
        try await SpoolHarness().run { client in
            let port = try #require(client.port)
            for (what, code, act) in Self.violations {
                let socket = try RawWebSocket(port: port)
                // Sending may fail half-way once the server has closed: what it answered is the point.
                try? await act(socket)
                var closeCode: Int?
                while closeCode == nil, let frame = try await socket.next() {
                    closeCode = frame.closeCode
                }
                #expect(closeCode == code, "\(what)")
            }
            // Nothing of it touched anyone else: a new connection works.
            try await withSocket(client) { try await $0.expectAlive() }
        }
    }

    /// (the close frame's payload, the code the server answers with)
    @Test(arguments: [
        ([0x03, 0xE8], 1000), ([0x0F, 0xA0], 4000), ([0x03, 0xED], 1002), ([0x03, 0xEE], 1002), ([0x00, 0x05], 1002), ([0x03], 1002),
    ] as [([UInt8], Int)])
    func closeCodes(payload: [UInt8], answer: Int) async throws {
        try await SpoolHarness().run { client in
            let socket = try RawWebSocket(port: try #require(client.port))
            try await socket.send(opcode: 0x8, payload)
            #expect(try await socket.next()?.closeCode == answer)
            #expect(try await socket.next() == nil)
        }
    }

    @Test func onlyThePushPathUpgrades() async throws {
        try await SpoolHarness().run { client in
            let port = try #require(client.port)
            #expect(try RawWebSocket(port: port, path: "/api/elsewhere").statusLine.hasPrefix("HTTP/1.1 400"))
            let withQuery = try RawWebSocket(port: port, path: "/api/ws?client=test")
            #expect(withQuery.statusLine.hasPrefix("HTTP/1.1 101"))
            try await withQuery.send(text: clientFrame("ping", id: "q"))
            #expect(Frame(text: try await withQuery.nextText()).id == "q")

            // An upgrade asked for on a connection that already served a request cannot be done
            // there (NIO upgrades first requests only): it is redirected, and the connection closes.
            let keptAlive = try RawHTTPConnection(port: port)
            try keptAlive.askHealth()
            #expect(keptAlive.answer(within: 10_000)?.hasPrefix("HTTP/1.1 200") == true)
            try keptAlive.send(
                "GET /api/ws?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                    + "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            )
            let redirect = try #require(keptAlive.answer(within: 10_000))
            #expect(redirect.hasPrefix("HTTP/1.1 307"), "\(redirect)")
            #expect(redirect.lowercased().contains("location: /api/ws?x=1"))
            #expect(redirect.lowercased().contains("connection: close"))
        }
    }

    /// permessage-deflate against another implementation (Hummingbird's client): frames large
    /// enough are compressed both ways, and the text survives.
    @Test func deflateRoundTripsWithAnotherImplementation() async throws {
        try await SpoolHarness().run { client in
            let port = try #require(client.port)
            let offer = try RawWebSocket(port: port, extensions: "permessage-deflate; client_max_window_bits")
            #expect(offer.handshake.contains("permessage-deflate; server_no_context_takeover; client_no_context_takeover"))
            let declined = try RawWebSocket(port: port, extensions: "permessage-deflate; server_max_window_bits=10")
            #expect(!declined.handshake.lowercased().contains("permessage-deflate"), "a smaller server window is declined")

            // An unknown type is echoed (64 characters of it) with the id (128) and the allowed types:
            // a reply well over the 256 bytes from which the server compresses.
            let configuration = WebSocketClientConfiguration(extensions: [.perMessageDeflate(noContextTakeover: false, minFrameSizeToCompress: 16)])
            let longType = String(repeating: "t", count: 64)
            let longID = String(repeating: "spool-", count: 21)
            let replies = try await withSocket(port: port, configuration: configuration) { socket in
                var replies: [Frame] = []
                for round in 0..<3 {
                    try await socket.send(longType, id: "\(longID)\(round)")
                    replies.append(try await socket.next())
                }
                return replies.map { [$0.id, $0.errorCode, $0.string("message")] }
            }
            #expect(replies == (0..<3).map { ["\(longID)\($0)", "UNKNOWN_TYPE", "Unknown message type '\(longType)'."] })

            // The raw side sees the server's frame compressed (RSV1), and smaller than the text.
            let text = clientFrame(longType, id: longID)
            try await offer.send(text: text)
            let frame = try #require(try await offer.next())
            #expect(frame.rsv1 && frame.opcode == 0x1 && frame.payload.count < text.utf8.count)
        }
    }

    @Test func silentPeersAreClosedByTheHeartbeat() async throws {
        var harness = SpoolHarness()
        harness.configuration.pingInterval = .milliseconds(300)
        try await harness.run { client in
            let port = try #require(client.port)
            let silent = try RawWebSocket(port: port)
            let answering = try RawWebSocket(port: port)
            // The answering peer is pinged round after round and stays open.
            async let answered: Void = {
                for _ in 0..<4 {
                    let ping = try #require(try await answering.next())
                    #expect(ping.opcode == 0x9)
                    try await answering.send(opcode: 0xA, ping.payload)
                }
            }()
            // The silent peer gets a ping, then, having not answered it, a 1001 close.
            #expect(try await silent.next()?.opcode == 0x9)
            let close = try #require(try await silent.next())
            #expect(close.closeCode == 1001 && close.text.contains("ping timeout"))
            try await answered
            try await answering.send(text: clientFrame("ping", id: "still-here"))
            #expect(Frame(text: try await answering.nextText()).id == "still-here")
        }
    }

    @Test func shutdownClosesSocketsWithGoingAway() async throws {
        let storage = NSTemporaryDirectory() + "spool-shutdown-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: storage) }
        try await SpoolProcess.run(storage: storage, arguments: ["--storage-jobs", "memory"]) { port, pid in
            let socket = try RawWebSocket(port: port)
            try await socket.send(text: clientFrame("ping", id: "before"))
            #expect(Frame(text: try await socket.nextText()).id == "before")
            kill(pid, SIGTERM)
            let close = try #require(try await socket.next())
            #expect(close.closeCode == 1001)
            // The server waits for the client's answer, then the socket ends and the process exits.
            try await socket.send(opcode: 0x8, [0x03, 0xE9])
            #expect(try await socket.next() == nil)
            for _ in 0..<100 where isAlive(pid) { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!isAlive(pid))
        }
    }

    /// A connection that never sends a request must not hold up shutdown, nor stay open once its
    /// client has stopped sending (`SilentConnectionHandler`).
    @Test(.timeLimit(.minutes(1))) func silentConnectionsAreClosed() async throws {
        let held = Mutex<RawHTTPConnection?>(nil)
        try await SpoolHarness().run { client in
            let port = try #require(client.port)
            let halfClosed = try RawHTTPConnection(port: port)
            halfClosed.shutdownWrite()
            #expect(halfClosed.closedByPeer(within: 10_000))
            try held.withLock { $0 = try RawHTTPConnection(port: port) }
        }
        // The server stopped, closing on its way the connection that never said anything.
        #expect(held.withLock { $0?.closedByPeer(within: 5_000) } == true)
    }

    @Test func deflateOffersAreReadPerRFC7692() {
        #expect(MessageDeflate.accepts(offers: ["permessage-deflate"]))
        #expect(MessageDeflate.accepts(offers: ["permessage-deflate; client_max_window_bits"]))
        #expect(MessageDeflate.accepts(offers: ["x-webkit-deflate-frame, permessage-deflate; client_max_window_bits=12"]))
        #expect(MessageDeflate.accepts(offers: ["permessage-deflate; server_max_window_bits=10, permessage-deflate"]), "second offer")
        #expect(MessageDeflate.accepts(offers: ["permessage-deflate; server_no_context_takeover; client_no_context_takeover"]))
        #expect(!MessageDeflate.accepts(offers: ["permessage-deflate; server_max_window_bits=10"]))
        #expect(!MessageDeflate.accepts(offers: ["permessage-deflate; client_max_window_bits=99"]))
        #expect(!MessageDeflate.accepts(offers: ["permessage-deflate; unknown_parameter"]))
        #expect(!MessageDeflate.accepts(offers: ["x-webkit-deflate-frame"]))
        #expect(!MessageDeflate.accepts(offers: []))
    }

    func waitForConnections(_ client: some TestClientProtocol, toBe count: Int) async throws {
        for _ in 0..<100 {
            let info = try await client.execute(uri: "/api/ws/info", method: .get)
            if String(buffer: info.body).contains(#""connections":\#(count),"#) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("connections did not return to \(count)")
    }
}
