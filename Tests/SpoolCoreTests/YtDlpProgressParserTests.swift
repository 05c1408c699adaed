import Foundation
import Testing
@testable import SpoolCore

@Suite struct YtDlpProgressParserTests {
    /// The size of the file the fixtures downloaded, as `stat` saw it when they were captured.
    private func sourceSize() throws -> Int64 {
        let text = try Fixture.text("src-mp4-size.txt").trimmingCharacters(in: .whitespacesAndNewlines)
        return try #require(Int64(text))
    }

    /// Parses a fixture, checking that exactly the marked lines parse.
    private func reports(_ name: String) throws -> [DownloadProgress] {
        let lines = try Fixture.lines(name)
        let marked = lines.filter { $0.hasPrefix("spool-dl ") }
        #expect(!marked.isEmpty)
        for line in lines where !line.hasPrefix("spool-dl ") {
            #expect(YtDlpProgressParser.parse(line: line) == nil, "should not parse: \(line)")
        }
        let parsed = marked.compactMap { YtDlpProgressParser.parse(line: $0) }
        #expect(parsed.count == marked.count)
        return parsed
    }

    @Test func templateIsWhatTheFixturesWereCapturedWith() throws {
        let template = YtDlpProgressParser.template
        #expect(template.hasPrefix("download:spool-dl "))
        for field in ["downloaded_bytes", "total_bytes", "total_bytes_estimate", "speed", "eta", "fragment_index", "fragment_count", "status"] {
            #expect(template.contains("%(progress.\(field))s"))
        }
        let script = try Fixture.text("capture.sh")
        #expect(script.contains("TEMPLATE='\(template)'"))
    }

    @Test func knownTotalEndsWithTheRealFileSize() throws {
        let reports = try reports("ytdlp-progress-known-total.txt")
        let size = try sourceSize()
        let last = try #require(reports.last)
        #expect(last.isFinished)
        #expect(last.downloadedBytes == size)
        #expect(last.totalBytes == size)
        #expect(last.fraction == 1)
        for report in reports {
            #expect(report.totalBytes == size)
            #expect(!report.totalIsEstimate)
            #expect(report.fragmentIndex == nil && report.fragmentCount == nil)
            #expect(report.speedBytesPerSecond != nil)
        }
        // yt-dlp knows the eta while downloading, and prints NA for it once finished.
        #expect(reports.dropLast().allSatisfy { $0.etaSeconds != nil && !$0.isFinished })
        #expect(last.etaSeconds == nil)

        let fractions = reports.compactMap(\.fraction)
        #expect(fractions.count == reports.count)
        #expect(zip(fractions, fractions.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(try #require(fractions.first) < 0.01)
    }

    @Test func unknownTotalHasNoFractionUntilFinished() throws {
        let reports = try reports("ytdlp-progress-unknown-total.txt")
        let size = try sourceSize()
        let downloading = reports.filter { !$0.isFinished }
        #expect(downloading.count >= 3)
        for report in downloading {
            #expect(report.totalBytes == nil)
            #expect(!report.totalIsEstimate)
            #expect(report.etaSeconds == nil)
            #expect(report.fraction == nil)
        }
        // The first reports come too soon for a speed figure either.
        #expect(try #require(downloading.first).speedBytesPerSecond == nil)
        let bytes = downloading.map(\.downloadedBytes)
        #expect(zip(bytes, bytes.dropFirst()).allSatisfy { $0 <= $1 })

        let last = try #require(reports.last)
        #expect(last.isFinished)
        #expect(last.downloadedBytes == size)
        #expect(last.totalBytes == size)
        #expect(last.fraction == 1)
    }

    @Test func hlsReportsFragmentsAndAnEstimate() throws {
        let reports = try reports("ytdlp-progress-hls.txt")
        let downloading = reports.filter { !$0.isFinished }
        #expect(!downloading.isEmpty)
        for report in downloading {
            #expect(report.totalIsEstimate)
            #expect(report.totalBytes != nil)
            #expect(report.fragmentCount == 4)
            let fraction = try #require(report.fraction)
            #expect((0...1).contains(fraction))
        }
        let indexes = downloading.compactMap(\.fragmentIndex)
        #expect(indexes.count == downloading.count)
        #expect(indexes.first == 0 && indexes.last == 4)
        #expect(zip(indexes, indexes.dropFirst()).allSatisfy { $0 <= $1 })

        // Once finished, yt-dlp reports the exact total: what was actually written.
        let last = try #require(reports.last)
        #expect(last.isFinished)
        #expect(!last.totalIsEstimate)
        #expect(last.totalBytes == last.downloadedBytes)
        #expect(last.fragmentIndex == nil)
    }

    @Test func readsEveryField() throws {
        let report = try #require(YtDlpProgressParser.parse(line: "spool-dl downloading 1024 NA 906160.0 0 NA 2 4\r"))
        #expect(report == DownloadProgress(
            downloadedBytes: 1024, totalBytes: 906_160, totalIsEstimate: true,
            speedBytesPerSecond: 0, etaSeconds: nil, fragmentIndex: 2, fragmentCount: 4, isFinished: false
        ))

        let exact = try #require(YtDlpProgressParser.parse(line: "spool-dl downloading 500 1000 900 2048.5 3 NA NA"))
        #expect(exact.totalBytes == 1000 && !exact.totalIsEstimate)
        #expect(exact.speedBytesPerSecond == 2048.5 && exact.etaSeconds == 3)
        #expect(exact.fraction == 0.5)
    }

    @Test(arguments: [
        "",
        "[download] Destination: out.mp4",
        "[download]  42.0% of  862.00KiB at  200.00KiB/s ETA 00:02",
        "spool-dl",
        "spool-dl downloading 1024 NA NA NA NA NA",
        "spool-dl downloading 1024 NA NA NA NA NA NA extra",
        "spool-dlx downloading 1024 NA NA NA NA NA NA",
        "spool-dl downloading lots NA NA NA NA NA NA",
        "spool-dl downloading -5 NA NA NA NA NA NA",
        "spool-dl downloading 1024 nan NA NA NA NA NA",
        "ERROR: [generic] Unable to download webpage: HTTP Error 404",
    ])
    func rejectsOtherLines(line: String) {
        #expect(YtDlpProgressParser.parse(line: line) == nil)
    }

    @Test func fractionPrefersBytesThenFragments() {
        #expect(DownloadProgress(downloadedBytes: 25, totalBytes: 100).fraction == 0.25)
        #expect(DownloadProgress(downloadedBytes: 25, totalBytes: 100, fragmentIndex: 3, fragmentCount: 4).fraction == 0.25)
        #expect(DownloadProgress(downloadedBytes: 25, fragmentIndex: 3, fragmentCount: 4).fraction == 0.75)
        #expect(DownloadProgress(downloadedBytes: 25).fraction == nil)
        #expect(DownloadProgress(downloadedBytes: 25, totalBytes: 0).fraction == nil)
        #expect(DownloadProgress(downloadedBytes: 25, fragmentIndex: 0, fragmentCount: 0).fraction == nil)
        // An estimate can fall below what has arrived; the fraction still stays within 0...1.
        #expect(DownloadProgress(downloadedBytes: 150, totalBytes: 100, totalIsEstimate: true).fraction == 1)
        #expect(DownloadProgress(downloadedBytes: 25, isFinished: true).fraction == 1)
    }
}
