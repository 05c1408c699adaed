import Foundation
import Hummingbird
import Logging
import HummingbirdTesting
@testable import SpoolServer

/// A real Spool server (real tools, real SQLite) on a fresh storage folder, on a loopback port.
struct SpoolHarness {
    let storage: URL
    var configuration: SpoolConfiguration

    init(concurrentJobs: Int = 2) {
        storage = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("spool-e2e-\(UUID().uuidString)")
        configuration = SpoolConfiguration()
        configuration.storagePath = storage.path
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.concurrentJobs = concurrentJobs
        configuration.publicPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../Public").standardized.path
        configuration.logLevel = .warning
    }

    /// Runs `body` against the live server, then removes the storage folder.
    func run<Value: Sendable>(_ body: @Sendable @escaping (any TestClientProtocol) async throws -> Value) async throws -> Value {
        defer { try? FileManager.default.removeItem(at: storage) }
        let app = try await buildApplication(configuration)
        return try await app.test(.live) { client in try await body(client) }
    }

    /// Scratch folders left under `storage/tmp`.
    var leftoverScratch: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: storage.appendingPathComponent("tmp").path))?.filter { !$0.hasPrefix(".") } ?? []
    }
}

/// Processes whose command line mentions `text` (a job id appears in every tool's paths).
func processes(mentioning text: String) -> [String] {
    let ids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { $0.allSatisfy(\.isNumber) } ?? []
    return ids.compactMap { pid -> String? in
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        return line.contains(text) ? "\(pid): \(line)" : nil
    }
}
