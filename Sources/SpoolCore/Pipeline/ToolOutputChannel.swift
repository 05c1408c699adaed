import NIOCore
import NIOPosix
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#endif

/// A pipe for a tool's merged stdout and stderr whose read end is an event-loop channel: lines are
/// split, handed to a handler and kept in a tail right where the bytes arrive.
///
/// Why not swift-subprocess's own output sequence: every read there passes through one process-wide
/// registry lock, a monitor thread and a task hop per chunk, and the line loop then waits its turn on
/// Swift's shared pool. When a thousand jobs leave their download together, that pool is busy with
/// their tools' exits and next starts, and the last progress lines waited 100 ms and more behind it
/// (BENCHMARKS.md, change 12). Here a line is read, parsed and paced on an event loop without any
/// task switch, and only the paced reports travel on (see ``ProgressExecutor``). That loop is not
/// one of those that write the sockets (``ToolRunner/outputReaders``): with 10,000 subscribers
/// those are saturated, and output read there came in late bursts the pacing then thinned to a
/// tenth of the updates.
///
/// The handler runs on the event loop and must not block; `State` is what it keeps from line to line
/// (a parser, the progress meter), handed back when the output ends.
struct ToolOutputChannel<State: Sendable>: Sendable {
    /// Lines longer than this (a tool printing without newlines) are cut into pieces of this size.
    static var maxLineBytes: Int { 64 << 10 }

    /// The write end, for the child's stdout and stderr. The caller closes it once the child has
    /// started (or failed to), so the channel sees end-of-file when the tool and its children are gone.
    let writeEnd: PipeWriteEnd
    private let channel: any Channel
    private let ended: EventLoopFuture<(tail: LineTail, state: State)>

    /// Opens the pipe and starts watching its read end on one of `group`'s event loops.
    static func open(
        on group: MultiThreadedEventLoopGroup,
        tailLines: Int,
        state: State,
        onLine: @escaping @Sendable (inout State, String) -> Bool
    ) async throws -> Self {
        let (read, write) = try SystemPackage.FileDescriptor.pipe()
        // Close-on-exec, so no other program this process runs inherits either end (a child holding
        // the write end would keep this channel from ever seeing end-of-file). swift-subprocess also
        // closes every inherited descriptor in its children, which covers the moment in between.
        for end in [read, write] { _ = fcntl(end.rawValue, F_SETFD, FD_CLOEXEC) }
        let readEnd = read.rawValue, writeEnd = PipeWriteEnd(write)
        let loop = group.next()
        let ended = loop.makePromise(of: (tail: LineTail, state: State).self)
        do {
            let channel = try await NIOPipeBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let splitter = LineSplitter(tail: LineTail(capacity: tailLines), state: state, onLine: onLine, ended: ended)
                        try channel.pipeline.syncOperations.addHandler(splitter)
                    }
                }
                .takingOwnershipOfDescriptor(input: readEnd)
                .get()
            return Self(writeEnd: writeEnd, channel: channel, ended: ended.futureResult)
        } catch {
            try? SystemPackage.FileDescriptor(rawValue: readEnd).close()
            writeEnd.close()
            ended.fail(error)
            throw error
        }
    }

    /// Waits until the output ends (every writer gone) and returns the kept tail and the handler's
    /// final state. Cancelling the calling task closes the channel; what was read until then is returned.
    func lines() async throws -> (tail: LineTail, state: State) {
        try await withTaskCancellationHandler {
            try await ended.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// Stops reading (a spawn that failed); the read end is closed with the channel.
    func close() {
        channel.close(promise: nil)
    }
}

/// A pipe's write end that is closed exactly once, whichever way a run ends: a second `close` of
/// the same number could close a descriptor some other thread has opened since.
final class PipeWriteEnd: Sendable {
    let descriptor: SystemPackage.FileDescriptor
    private let closed = Atomic(false)

    init(_ descriptor: SystemPackage.FileDescriptor) {
        self.descriptor = descriptor
    }

    func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try? descriptor.close()
    }

    deinit {
        close()
    }
}

/// Splits the bytes of a tool's output into lines at `\n` or `\r` (progress bars redraw with `\r`),
/// skipping empty ones, and hands each to the handler; lines the handler does not take as progress
/// are kept in the tail for logs and error messages.
private final class LineSplitter<State: Sendable>: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var pending = ByteBuffer()
    private var tail: LineTail
    private var state: State
    private let onLine: @Sendable (inout State, String) -> Bool
    private let ended: EventLoopPromise<(tail: LineTail, state: State)>

    init(
        tail: LineTail, state: State, onLine: @escaping @Sendable (inout State, String) -> Bool,
        ended: EventLoopPromise<(tail: LineTail, state: State)>
    ) {
        self.tail = tail
        self.state = state
        self.onLine = onLine
        self.ended = ended
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        pending.writeBuffer(&bytes)
        while let end = pending.readableBytesView.firstIndex(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) {
            let line = pending.readString(length: end - pending.readerIndex) ?? ""
            pending.moveReaderIndex(forwardBy: 1)
            deliver(line)
        }
        while pending.readableBytes >= ToolOutputChannel<State>.maxLineBytes {
            deliver(pending.readString(length: ToolOutputChannel<State>.maxLineBytes) ?? "")
        }
        pending.discardReadBytes()
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A last line without a newline still counts.
        if let rest = pending.readString(length: pending.readableBytes) { deliver(rest) }
        ended.succeed((tail, state))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A read error ends the output like end-of-file does; the tool's exit status tells the rest.
        context.close(promise: nil)
    }

    private func deliver(_ line: String) {
        guard !line.isEmpty else { return }
        if !onLine(&state, line) { tail.append(line) }
    }
}
