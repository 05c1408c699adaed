import Foundation
import Synchronization
import Testing
@testable import SpoolCore

// MARK: - DownloadTracker

@Suite struct DownloadTrackerUnitTests {
    /// Feeds `reports` and returns every fraction the tracker gave (nil for "unknown").
    private func fractions(expectedStreams: Int, _ reports: [DownloadProgress]) -> [Double?] {
        var tracker = DownloadTracker(expectedStreams: expectedStreams)
        return reports.map { tracker.fraction(after: $0) }
    }

    private func assertNonDecreasingEndingAtOne(_ values: [Double?], sourceLocation: SourceLocation = #_sourceLocation) {
        let known = values.compactMap { $0 }
        #expect(!known.isEmpty, sourceLocation: sourceLocation)
        for (earlier, later) in zip(known, known.dropFirst()) {
            #expect(later >= earlier, "fractions went from \(earlier) to \(later)", sourceLocation: sourceLocation)
        }
        #expect(known.allSatisfy { (0...1).contains($0) }, sourceLocation: sourceLocation)
        #expect(known.last == 1, sourceLocation: sourceLocation)
    }

    @Test func twoStreamsWithFinishedLines() {
        let values = fractions(expectedStreams: 2, [
            DownloadProgress(downloadedBytes: 0, totalBytes: 1000),
            DownloadProgress(downloadedBytes: 500, totalBytes: 1000),
            DownloadProgress(downloadedBytes: 1000, totalBytes: 1000),
            DownloadProgress(downloadedBytes: 1000, totalBytes: 1000, isFinished: true),
            DownloadProgress(downloadedBytes: 0, totalBytes: 200),
            DownloadProgress(downloadedBytes: 100, totalBytes: 200),
            DownloadProgress(downloadedBytes: 200, totalBytes: 200, isFinished: true),
        ])
        #expect(values == [0, 0.25, 0.5, 0.5, 0.5, 0.75, 1])
        assertNonDecreasingEndingAtOne(values)
    }

    @Test func twoStreamsWithoutFinishedLineBetween() {
        let values = fractions(expectedStreams: 2, [
            DownloadProgress(downloadedBytes: 400, totalBytes: 800),
            DownloadProgress(downloadedBytes: 800, totalBytes: 800),
            // The audio stream starts from zero with no "finished" line for the video.
            DownloadProgress(downloadedBytes: 10, totalBytes: 100),
            DownloadProgress(downloadedBytes: 100, totalBytes: 100),
            DownloadProgress(downloadedBytes: 100, totalBytes: 100, isFinished: true),
        ])
        #expect(values[0] == 0.25)
        #expect(values[2] == 0.55)
        assertNonDecreasingEndingAtOne(values)
    }

    @Test func fragmentedAndUnknownTotals() {
        let values = fractions(expectedStreams: 2, [
            DownloadProgress(downloadedBytes: 100, totalBytes: 2000, totalIsEstimate: true, fragmentIndex: 1, fragmentCount: 20),
            DownloadProgress(downloadedBytes: 1000, fragmentIndex: 10, fragmentCount: 20),
            DownloadProgress(downloadedBytes: 2100, isFinished: true),
            DownloadProgress(downloadedBytes: 50),
            DownloadProgress(downloadedBytes: 500),
            DownloadProgress(downloadedBytes: 900, isFinished: true),
        ])
        #expect(values[3] == nil && values[4] == nil, "a stream of unknown length has no fraction")
        assertNonDecreasingEndingAtOne(values)
    }

    @Test func singleStream() {
        let values = fractions(expectedStreams: 1, [
            DownloadProgress(downloadedBytes: 0, totalBytes: 10),
            DownloadProgress(downloadedBytes: 5, totalBytes: 10),
            DownloadProgress(downloadedBytes: 10, totalBytes: 10, isFinished: true),
        ])
        #expect(values == [0, 0.5, 1])
    }

    @Test func messages() {
        let tracker = DownloadTracker(expectedStreams: 1)
        #expect(tracker.message(for: DownloadProgress(downloadedBytes: 10, totalBytes: 100)).hasPrefix("Downloading: "))
        #expect(tracker.message(for: DownloadProgress(downloadedBytes: 10, totalBytes: 100, totalIsEstimate: true)).contains(" of about "))
        #expect(!tracker.message(for: DownloadProgress(downloadedBytes: 10)).contains(" of "))
        #expect(tracker.message(for: DownloadProgress(downloadedBytes: 10, isFinished: true)).hasPrefix("Downloaded "))
        #expect(tracker.message(for: DownloadProgress(downloadedBytes: 1_250_000, totalBytes: 18_240_000)) == "Downloading: 1.3 MB of 18.2 MB")
    }

    @Test(arguments: [
        (Int64(0), "0 bytes"), (1, "1 byte"), (999, "999 bytes"), (1000, "1 KB"), (167_400, "167 KB"), (999_499, "999 KB"),
        (999_500, "1000 KB"), (1_000_000, "1 MB"), (18_240_000, "18.2 MB"), (18_960_000, "19 MB"), (1_234_000_000, "1.23 GB"),
        (1_050_000_000, "1.05 GB"), (3_000_000_000_000, "3 TB"), (-5, "0 bytes"),
    ])
    func byteCounts(bytes: Int64, text: String) {
        #expect(ByteCountText.format(bytes) == text)
    }
}

// MARK: - ProgressMeter

/// Records what a ``ProgressMeter`` reports, awaited or posted, in one list.
private final class RecordingProgressSink: ProgressSink {
    private let recorded = Mutex<[ProgressUpdate]>([])
    var updates: [ProgressUpdate] { recorded.withLock { $0 } }

    func report(_ update: ProgressUpdate) async {
        post(update)
    }

    func post(_ update: ProgressUpdate) {
        recorded.withLock { $0.append(update) }
    }
}

@Suite struct ProgressMeterUnitTests {
    @Test func followsPhaseRangesAndNeverGoesBack() async {
        let sink = RecordingProgressSink()
        var meter = ProgressMeter(sink: sink, interval: .zero)
        await meter.enter(.metadata, range: PhaseWeights.metadata, message: "Reading")
        meter.advance(fraction: 1, message: "Read")
        await meter.enter(.download, range: PhaseWeights.download(for: .mp3), message: "Downloading")
        meter.advance(fraction: 0.5, message: "half")
        meter.advance(fraction: 0.2, message: "second stream restarted its count")
        meter.advance(fraction: nil, message: "unknown")
        meter.advance(fraction: 1.5, message: "over")
        await meter.enter(.transcode, range: 50...PhaseWeights.transcodeEnd, message: "Converting")
        meter.advance(fraction: 0, message: "start")
        meter.advance(fraction: 0.5, message: "half")
        await meter.enter(.store, range: PhaseWeights.store, message: "Saving")
        meter.advance(fraction: -1, message: "negative")
        meter.advance(fraction: 1, message: "saved")

        let updates = sink.updates
        #expect(updates.map(\.progress) == [0, 5, 5, 32.5, 32.5, 32.5, 60, 60, 60, 78.5, 97, 97, 99])
        #expect(updates.map(\.step) == [.metadata, .metadata, .download, .download, .download, .download, .download, .transcode, .transcode, .transcode, .store, .store, .store])
        for (earlier, later) in zip(updates, updates.dropFirst()) {
            #expect(later.progress >= earlier.progress)
        }
        #expect(meter.overall == 99)
    }

    @Test func progressStaysInsideEachPhaseRange() async {
        let sink = RecordingProgressSink()
        var meter = ProgressMeter(sink: sink, interval: .zero)
        let phases: [(JobStep, ClosedRange<Double>)] = [(.metadata, 0...5), (.download, 5...55), (.transcode, 55...97), (.store, 97...99)]
        for (step, range) in phases {
            await meter.enter(step, range: range, message: "\(step)")
            for fraction in stride(from: 0.0, through: 1.0, by: 0.1) {
                meter.advance(fraction: fraction, message: "")
            }
        }
        let updates = sink.updates
        for (step, range) in phases {
            let inPhase = updates.filter { $0.step == step }
            #expect(inPhase.count == 12)
            #expect(inPhase.allSatisfy { range.contains($0.progress) }, "\(step): \(inPhase.map(\.progress))")
            #expect(inPhase.first?.progress == range.lowerBound)
            #expect(abs((inPhase.last?.progress ?? 0) - range.upperBound) < 1e-9)
        }
    }

    @Test func enteringALowerRangeDoesNotGoBack() async {
        let sink = RecordingProgressSink()
        var meter = ProgressMeter(sink: sink, interval: .zero)
        await meter.enter(.download, range: 5...55, message: "")
        meter.advance(fraction: 1, message: "")
        await meter.enter(.metadata, range: 0...5, message: "again")
        meter.advance(fraction: 1, message: "")
        let progress = sink.updates.map(\.progress)
        #expect(progress == [5, 55, 55, 55])
    }

    @Test func throttlesAllButEnterAndForcedReports() async {
        let sink = RecordingProgressSink()
        var meter = ProgressMeter(sink: sink, interval: .seconds(3600))
        let source = SourceSummary(title: "T", durationSeconds: 8, thumbnailUrl: nil, extractor: "generic")
        await meter.enter(.metadata, range: 0...5, message: "enter metadata", source: source)
        for index in 1...20 {
            meter.advance(fraction: Double(index) / 20, message: "dropped \(index)")
        }
        meter.advance(fraction: nil, message: "forced", live: LiveProgress(speedBytesPerSecond: 1000, etaSeconds: 3), force: true)
        await meter.enter(.download, range: 5...55, message: "enter download")
        meter.advance(fraction: 0.5, message: "dropped again")

        let updates = sink.updates
        #expect(updates.map(\.message) == ["enter metadata", "forced", "enter download"])
        #expect(updates.map(\.progress) == [0, 5, 5])
        #expect(updates[0].source == source)
        #expect(updates[1].live == LiveProgress(speedBytesPerSecond: 1000, etaSeconds: 3))
        #expect(updates[1].source == nil)
        // Dropped reports still move the figure.
        #expect(meter.overall == 30)
    }
}
