import Foundation
import Testing
@testable import SpoolCore

@Suite struct SQLiteJobStoreUnitTests {
    /// Runs `body` with a migrated store in a fresh temporary folder, removed afterwards.
    private func withStore(_ body: (SQLiteJobStore, String) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spool-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try SQLiteJobStore(path: folder + "/jobs.sqlite")
        try await store.migrate()
        try await body(store, folder)
    }

    private func job(_ status: JobStatus, createdAt: Date, format: MediaFormat = .mp3) -> Job {
        let quality: Quality = format == .mp3 ? .audioBitrate(kbps: 128) : .maxHeight(nil)
        var job = Job(id: JobID.make(), options: ConversionOptions(url: "https://example.com/\(UUID().uuidString)", format: format, quality: quality, platform: "web"), createdAt: createdAt)
        job.status = status
        return job
    }

    @Test func savedJobReadsBackEqual() async throws {
        try await withStore { store, _ in
            var full = job(.completed, createdAt: Date(), format: .mp4)
            full.step = .completed
            full.progress = 100
            full.message = "Ready to download"
            full.seq = 17
            full.startedAt = Date()
            full.finishedAt = Date()
            full.attempts = 2
            full.source = SourceSummary(title: "Clip – ünïcode ☕", durationSeconds: 8.25, thumbnailUrl: "https://e.com/t.jpg", extractor: "generic")
            full.result = JobResult(filename: "Clip.mp4", sizeBytes: 123_456, durationSeconds: 8.02, mimeType: "video/mp4", videoCodec: "h264", audioCodec: "aac", height: 360, bitRate: 600_000, remuxed: true)
            var failed = job(.failed, createdAt: Date())
            failed.error = .invalidQuality("999", format: .mp3, allowed: ["128"])
            try await store.save([full, failed])

            #expect(try await store.job(full.id) == full)
            #expect(try await store.job(failed.id) == failed)
            #expect(try await store.job(failed.id)?.error?.details?["allowed"] == "128")
            #expect(try await store.job(JobID.make()) == nil)
        }
    }

    @Test func jobsWithStatusAreOldestFirst() async throws {
        try await withStore { store, _ in
            let base = Date(timeIntervalSinceReferenceDate: 750_000_000)
            let oldest = job(.queued, createdAt: base)
            let middle = job(.running, createdAt: base.addingTimeInterval(5))
            let newest = job(.queued, createdAt: base.addingTimeInterval(60))
            let finished = job(.completed, createdAt: base.addingTimeInterval(-60))
            // Saved out of order, one at a time and in a batch.
            try await store.save([newest])
            try await store.save([finished, middle, oldest])

            #expect(try await store.jobs(withStatus: [.queued, .running]).map(\.id) == [oldest.id, middle.id, newest.id])
            #expect(try await store.jobs(withStatus: [.queued]).map(\.id) == [oldest.id, newest.id])
            #expect(try await store.jobs(withStatus: [.completed]).map(\.id) == [finished.id])
            #expect(try await store.jobs(withStatus: [.failed, .cancelled]).isEmpty)
            #expect(try await store.jobs(withStatus: []).isEmpty)
        }
    }

    @Test func savingAgainOverwrites() async throws {
        try await withStore { store, _ in
            var entry = job(.queued, createdAt: Date())
            try await store.save([entry])
            entry.status = .running
            entry.seq = 5
            entry.progress = 42.5
            try await store.save([entry])
            #expect(try await store.job(entry.id) == entry)
            #expect(try await store.jobs(withStatus: [.queued]).isEmpty)
            #expect(try await store.jobs(withStatus: [.running]) == [entry])
            try await store.save([])
            #expect(try await store.jobs(withStatus: [.queued, .running, .completed, .failed, .cancelled]).count == 1)
        }
    }

    @Test func survivesReopeningAndMigratingTwice() async throws {
        try await withStore { store, folder in
            let entry = job(.queued, createdAt: Date())
            try await store.save([entry])
            let reopened = try SQLiteJobStore(path: folder + "/jobs.sqlite")
            try await reopened.migrate()
            #expect(try await reopened.job(entry.id) == entry)
        }
    }
}

@Suite struct InMemoryJobStoreUnitTests {
    @Test func behavesLikeTheSQLiteStore() async throws {
        let store = InMemoryJobStore()
        try await store.migrate()
        let base = Date(timeIntervalSinceReferenceDate: 750_000_000)
        let options = ConversionOptions(url: "https://e.com/a", format: .mp3, quality: .audioBitrate(kbps: 192))
        let later = Job(id: JobID.make(), options: options, createdAt: base.addingTimeInterval(1))
        var earlier = Job(id: JobID.make(), options: options, createdAt: base)
        try await store.save([later, earlier])
        #expect(try await store.jobs(withStatus: [.queued]).map(\.id) == [earlier.id, later.id])
        earlier.status = .cancelled
        try await store.save([earlier])
        #expect(try await store.job(earlier.id) == earlier)
        #expect(try await store.jobs(withStatus: [.queued]).map(\.id) == [later.id])
    }
}
