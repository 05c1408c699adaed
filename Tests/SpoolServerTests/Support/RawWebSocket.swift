import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A WebSocket client written byte by byte on a plain TCP socket, for tests of the protocol itself:
/// it can send what a well-behaved client library never would (unmasked frames, stray
/// continuations, reserved bits, text that is not UTF-8) and see exactly which frames come back.
///
/// Its calls block, so each runs on the socket's own dispatch queue rather than on the cooperative
/// pool, which the server under test needs.
final class RawWebSocket: @unchecked Sendable {
    struct Frame: Equatable {
        var fin = true
        var rsv1 = false
        var opcode: UInt8
        var payload: [UInt8]

        var text: String { String(decoding: payload, as: UTF8.self) }
        /// The status code of a close frame.
        var closeCode: Int? { opcode == 0x8 && payload.count >= 2 ? Int(payload[0]) << 8 | Int(payload[1]) : nil }
    }

    private let descriptor: Int32
    private let queue = DispatchQueue(label: "raw-websocket")
    private var buffered: [UInt8] = []
    /// The server's handshake answer: status line and headers.
    private(set) var handshake = ""

    /// Connects and sends an upgrade request for `path`, offering `extensions` if given.
    init(port: Int, path: String = "/api/ws", extensions: String? = nil) throws {
        descriptor = try connectToLoopback(port: port)
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        request += "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: \(Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString())\r\n"
        if let extensions { request += "Sec-WebSocket-Extensions: \(extensions)\r\n" }
        try write(Array((request + "\r\n").utf8))
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            if let range = buffered.firstRange(of: end) {
                handshake = String(decoding: buffered[..<range.lowerBound], as: UTF8.self)
                buffered.removeSubrange(..<range.upperBound)
                return
            }
            guard try fill(within: 10_000) else { throw TestFailure("no handshake answer; got \(String(decoding: buffered, as: UTF8.self))") }
        }
    }

    deinit { close(descriptor) }

    var statusLine: String { handshake.components(separatedBy: "\r\n").first ?? "" }

    /// Sends one frame; masked unless told otherwise, as a client must.
    func send(opcode: UInt8, _ payload: [UInt8], fin: Bool = true, rsv1: Bool = false, masked: Bool = true) async throws {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode]
        let maskBit: UInt8 = masked ? 0x80 : 0
        switch payload.count {
        case ..<126: bytes.append(maskBit | UInt8(payload.count))
        case ..<65536: bytes += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default: bytes += [maskBit | 127] + (0..<8).reversed().map { UInt8((payload.count >> ($0 * 8)) & 0xFF) }
        }
        if masked {
            let key = (0..<4).map { _ in UInt8.random(in: 0...255) }
            bytes += key
            bytes += payload.enumerated().map { $0.element ^ key[$0.offset % 4] }
        } else {
            bytes += payload
        }
        try await onQueue { [bytes] in try self.write(bytes) }
    }

    func send(text: String) async throws {
        try await send(opcode: 0x1, Array(text.utf8))
    }

    /// The next frame, or nil when the server closed the socket; fails after `seconds` of silence.
    func next(within seconds: Int = 10) async throws -> Frame? {
        try await onQueue { try self.readFrame(within: Int32(seconds * 1000)) }
    }

    /// The next text frame, skipping pings.
    func nextText(within seconds: Int = 10) async throws -> String {
        while let frame = try await next(within: seconds) {
            if frame.opcode == 0x1 { return frame.text }
        }
        throw TestFailure("the server closed the socket")
    }

    private func readFrame(within milliseconds: Int32) throws -> Frame? {
        guard try need(2, within: milliseconds) else { return nil }
        var length = Int(buffered[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard try need(4, within: milliseconds) else { return nil }
            length = Int(buffered[2]) << 8 | Int(buffered[3])
            offset = 4
        } else if length == 127 {
            guard try need(10, within: milliseconds) else { return nil }
            length = buffered[2..<10].reduce(0) { $0 << 8 | Int($1) }
            offset = 10
        }
        guard try need(offset + length, within: milliseconds) else { return nil }
        let frame = Frame(
            fin: buffered[0] & 0x80 != 0, rsv1: buffered[0] & 0x40 != 0, opcode: buffered[0] & 0x0F,
            payload: Array(buffered[offset..<offset + length])
        )
        buffered.removeFirst(offset + length)
        return frame
    }

    /// Whether `count` bytes are buffered, reading until they are; false at end of stream.
    private func need(_ count: Int, within milliseconds: Int32) throws -> Bool {
        while buffered.count < count {
            guard try fill(within: milliseconds) else { return false }
        }
        return true
    }

    /// Reads what is there; false at end of stream (or a reset).
    private func fill(within milliseconds: Int32) throws -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, milliseconds) == 1 else { throw TestFailure("nothing from the server within \(milliseconds) ms") }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = recv(descriptor, &chunk, chunk.count, 0)
        guard count > 0 else { return false }
        buffered += chunk[..<count]
        return true
    }

    private func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw TestFailure("send() failed: \(errno)") }
            sent += count
        }
    }

    private func onQueue<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
