import CompressNIO
import NIOCore
import NIOPosix

/// permessage-deflate (RFC 7692) for `/api/ws`, with no compression state per connection.
///
/// Spool always answers with `server_no_context_takeover` and `client_no_context_takeover`, so every
/// message is compressed on its own in both directions. That lets each event-loop thread keep one
/// deflater and one inflater, reset after every message, instead of each connection holding ~300 KB
/// of zlib windows for its whole life (which is what a per-connection compressor costs once used).
/// Progress frames are a few hundred bytes, so a shared dictionary would buy little anyway.
enum MessageDeflate {
    /// The extension response Spool sends when it accepts an offer.
    static let responseHeader = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    /// Frames smaller than this are sent as they are: compressing them saves nothing.
    static let minimumSizeToCompress = 256

    /// Whether one of the client's `Sec-WebSocket-Extensions` offers can be accepted: a
    /// `permessage-deflate` offer whose parameters Spool understands. An offer asking the server for
    /// a window under 2^15 (`server_max_window_bits`) is declined, since the shared deflater uses
    /// the full window; browsers do not ask for one.
    static func accepts(offers headerValues: [String]) -> Bool {
        for value in headerValues {
            for offer in value.split(separator: ",") {
                let parts = offer.split(separator: ";").map { $0.trimmingWhitespace() }
                guard parts.first?.lowercased() == "permessage-deflate" else { continue }
                if parts.dropFirst().allSatisfy(isAcceptable) { return true }
            }
        }
        return false
    }

    private static func isAcceptable(_ parameter: Substring) -> Bool {
        let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespace() }
        let name = pair[0].lowercased()
        let value = pair.count > 1 ? pair[1].trimming("\"") : nil
        switch name {
        case "server_no_context_takeover", "client_no_context_takeover":
            return value == nil
        case "client_max_window_bits":
            // Any window the client uses can be inflated with a full-size window.
            return value == nil || Int(value!).map { (8...15).contains($0) } == true
        case "server_max_window_bits":
            return value == "15"
        default:
            return false
        }
    }

    /// `payload` compressed as one message: deflated with a sync flush and the trailing
    /// `00 00 ff ff` removed (RFC 7692 §7.2.1).
    static func compress(_ payload: ByteBuffer, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        let codecs = try ThreadCodecs.current()
        defer { try? codecs.deflater.reset() }
        var input = payload
        var output = try input.compressStream(with: codecs.deflater, flush: .sync, allocator: allocator)
        output.moveWriterIndex(to: output.writerIndex - 4)
        return output
    }

    /// One compressed message inflated, refusing to grow past `maxSize` bytes.
    static func decompress(_ payload: ByteBuffer, maxSize: Int, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        let codecs = try ThreadCodecs.current()
        defer { try? codecs.inflater.reset() }
        var input = payload
        input.writeBytes([0, 0, 0xFF, 0xFF])
        return try input.decompressStream(with: codecs.inflater, maxSize: maxSize, allocator: allocator)
    }
}

/// The deflater and inflater of one thread. Only ever used by the thread that made it (through
/// ``current()``), from start to finish of one message; that is what makes the unchecked
/// `Sendable` true, and what `ThreadSpecificVariable` requires of its value.
private final class ThreadCodecs: @unchecked Sendable {
    let deflater: ZlibCompressor
    let inflater: ZlibDecompressor

    private init() throws {
        deflater = try ZlibCompressor(algorithm: .deflate, configuration: .init(windowSize: 15, compressionLevel: 6, memoryLevel: 8))
        inflater = try ZlibDecompressor(algorithm: .deflate, windowSize: 15)
    }

    private static let perThread = ThreadSpecificVariable<ThreadCodecs>()

    /// This thread's codecs, made on first use (zlib's init fails only when it cannot allocate).
    static func current() throws -> ThreadCodecs {
        if let codecs = perThread.currentValue { return codecs }
        let codecs = try ThreadCodecs()
        perThread.currentValue = codecs
        return codecs
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var text = self
        while text.first?.isWhitespace == true { text = text.dropFirst() }
        while text.last?.isWhitespace == true { text = text.dropLast() }
        return text
    }

    fileprivate func trimming(_ character: Character) -> Substring {
        var text = self
        while text.first == character { text = text.dropFirst() }
        while text.last == character { text = text.dropLast() }
        return text
    }
}
