import Foundation
import SpoolCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Spool as a separate process (the built `Spool` executable), for tests that must kill the
/// server outright and start it again on the same storage.
enum SpoolProcess {
    static var binary: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../.build/debug/Spool").standardized.path
    }

    /// Starts the server on a free loopback port and runs `body` with its port and pid. When `body`
    /// returns the server is stopped (SIGTERM), unless the body already killed it.
    static func run<Value: Sendable>(
        storage: String, arguments: [String] = [], _ body: @Sendable @escaping (_ port: Int, _ pid: Int32) async throws -> Value
    ) async throws -> Value {
        let (started, announce) = AsyncStream.makeStream(of: (Int, Int32).self)
        return try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask {
                let pid = Mutex<Int32>(0)
                // The server under test is not a media tool: nice 10 at most, never the idle class,
                // which a busy test run could starve.
                _ = try await ToolRunner(gracePeriod: .seconds(5), priority: .low).stream(
                    binary,
                    arguments: ["--http-host", "127.0.0.1", "--http-port", "0", "--storage-path", storage, "--log-level", "info"] + arguments,
                    onSpawn: { value in pid.withLock { $0 = value } }
                ) { line in
                    if let range = line.range(of: "listening on 127.0.0.1:"), let port = Int(line[range.upperBound...].prefix(while: \.isNumber)) {
                        announce.yield((port, pid.withLock { $0 }))
                    }
                    return false
                }
                announce.finish()
                return nil
            }
            var iterator = started.makeAsyncIterator()
            guard let (port, pid) = await iterator.next() else { throw TestFailure("Spool did not start (\(binary))") }
            let value = try await body(port, pid)
            kill(pid, SIGTERM)
            for try await _ in group {}
            return value
        }
    }
}

/// Whether a process with this pid is alive now.
func isAlive(_ pid: Int32) -> Bool {
    kill(pid, 0) == 0
}
