import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection speaking just enough HTTP/1.1 to ask for `/healthz` and read the answer;
/// closed when released. For tests about connections themselves, where a client library's own
/// pooling and reconnecting would hide what the server does.
final class RawHTTPConnection {
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = try connectToLoopback(port: port)
    }

    deinit { close(descriptor) }

    func askHealth() throws {
        try send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n")
    }

    /// Sends `request` as it is.
    func send(_ request: String) throws {
        let sent = request.withCString { Glibc.send(descriptor, $0, strlen($0), 0) }
        guard sent == request.utf8.count else { throw TestFailure("send() failed: \(errno)") }
    }

    /// Ends this side's sending (a TCP half-close), as a client that has nothing to say does.
    func shutdownWrite() {
        _ = Glibc.shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Whether the server closes the connection within `milliseconds` (reading an end of stream).
    func closedByPeer(within milliseconds: Int32) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, milliseconds) == 1 else { return false }
        var byte: UInt8 = 0
        return recv(descriptor, &byte, 1, 0) <= 0
    }

    /// The start of the answer, or nil when none arrives within `milliseconds`.
    func answer(within milliseconds: Int32) -> String? {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, milliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }
}

/// A TCP socket connected to `127.0.0.1:port`, for the raw clients above and in `RawWebSocket`.
func connectToLoopback(port: Int) throws -> Int32 {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw TestFailure("socket() failed: \(errno)") }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let status = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard status == 0 else {
        close(descriptor)
        throw TestFailure("connect() failed: \(errno)")
    }
    return descriptor
}
