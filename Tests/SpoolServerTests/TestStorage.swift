import Foundation
import SpoolCore
import SpoolServer

/// A unique, empty storage folder for one test, removed afterwards.
struct TestStorage {
    let path: String

    private init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("spool-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Runs `body` with a fresh folder and removes the folder whatever happens.
    static func with<Value>(_ body: (TestStorage) async throws -> Value) async throws -> Value {
        let storage = try TestStorage()
        defer { try? FileManager.default.removeItem(atPath: storage.path) }
        return try await body(storage)
    }

    /// The repository's `Public/` folder, found from this file's location.
    static let publicPath: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // SpoolServerTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // repository root
        .appendingPathComponent("Public").path

    /// A configuration that keeps everything inside this folder. The tool paths point at a program
    /// that surely exists, so readiness does not depend on what the machine has installed; no test
    /// using this configuration starts a conversion.
    func configuration() -> SpoolConfiguration {
        var config = SpoolConfiguration()
        config.storagePath = path
        config.publicPath = Self.publicPath
        config.port = 0
        config.tools = ToolPaths(ytDlp: "/bin/sh", ffmpeg: "/bin/sh", ffprobe: "/bin/sh")
        return config
    }
}
