import Testing
@testable import SpoolCore

@Suite struct FFmpegProgressParserTests {
    /// Feeds a fixture line by line, checking that only `progress=` lines close a block.
    private func blocks(_ name: String) throws -> [TranscodeProgress] {
        try blocks(lines: Fixture.lines(name))
    }

    private func blocks(lines: [String]) -> [TranscodeProgress] {
        var parser = FFmpegProgressParser()
        var blocks: [TranscodeProgress] = []
        for line in lines {
            if let block = parser.consume(line: line) {
                #expect(line.hasPrefix("progress="))
                blocks.append(block)
            } else {
                #expect(!line.hasPrefix("progress="))
            }
        }
        return blocks
    }

    @Test func mp3ExtractionEndsNearTheSourceDuration() throws {
        let blocks = try blocks("ffmpeg-progress-mp3.txt")
        #expect(blocks.count >= 2)
        let first = try #require(blocks.first)
        #expect(first.outTimeSeconds == 0)
        #expect(first.speed == 0)  // printed as "speed=   0x"
        #expect(!first.isEnd)

        let last = try #require(blocks.last)
        #expect(last.isEnd)
        #expect(abs(try #require(last.outTimeSeconds) - 8) < 0.1)
        #expect(try #require(last.speed) > 1)
        // 8 s at 128 kbit/s is about 128 KB.
        let size = try #require(last.totalSizeBytes)
        #expect((100_000...160_000).contains(size))
        #expect(blocks.dropLast().allSatisfy { !$0.isEnd })
    }

    @Test func mp4ReencodeAdvancesSteadily() throws {
        let blocks = try blocks("ffmpeg-progress-mp4.txt")
        #expect(blocks.count >= 3)
        let times = blocks.compactMap(\.outTimeSeconds)
        #expect(times.count == blocks.count)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 })
        let sizes = blocks.compactMap(\.totalSizeBytes)
        #expect(sizes.count == blocks.count)
        #expect(zip(sizes, sizes.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(blocks.allSatisfy { $0.speed != nil })

        let last = try #require(blocks.last)
        #expect(last.isEnd)
        #expect(abs(try #require(last.outTimeSeconds) - 8) < 0.1)
        #expect(last.fraction(ofDuration: 8) == 1)
        let middle = blocks[blocks.count / 2]
        let fraction = try #require(middle.fraction(ofDuration: 8))
        #expect(fraction > 0 && fraction < 1)
    }

    /// The real start of a seeked stream copy: negative out_time, speed=N/A, total_size=N/A.
    @Test func seekedCopyStartsWithoutAPosition() throws {
        let blocks = try blocks("ffmpeg-progress-seek-copy.txt")
        #expect(blocks.count >= 2)
        let first = try #require(blocks.first)
        #expect(first.outTimeSeconds == nil)
        #expect(first.speed == nil)
        #expect(first.totalSizeBytes == nil)
        #expect(first.fraction(ofDuration: 1.5) == nil)

        for block in blocks.dropFirst() {
            #expect(block.outTimeSeconds != nil)
            #expect(block.speed != nil)
            #expect(block.totalSizeBytes == nil)  // -f null writes no file
        }
        let last = try #require(blocks.last)
        #expect(last.isEnd)
        #expect(abs(try #require(last.outTimeSeconds) - 1.5) < 0.1)
    }

    @Test func notAvailableGivesNil() throws {
        let lines = [
            "frame=0", "fps=0.00", "stream_0_0_q=0.0", "bitrate=N/A", "total_size=N/A",
            "out_time_us=N/A", "out_time_ms=N/A", "out_time=N/A",
            "dup_frames=0", "drop_frames=0", "speed=N/A", "progress=continue",
        ]
        let blocks = blocks(lines: lines)
        #expect(blocks == [TranscodeProgress(outTimeSeconds: nil, speed: nil, totalSizeBytes: nil, isEnd: false)])
    }

    @Test func fallsBackToTheClockTimeAndHandlesCRLF() {
        var parser = FFmpegProgressParser()
        #expect(parser.consume(line: "out_time=00:01:02.500000\r") == nil)
        #expect(parser.consume(line: "speed=1.5x\r") == nil)
        #expect(parser.consume(line: "total_size=4096\r") == nil)
        let block = parser.consume(line: "progress=end\r")
        #expect(block == TranscodeProgress(outTimeSeconds: 62.5, speed: 1.5, totalSizeBytes: 4096, isEnd: true))
    }

    @Test func blocksDoNotLeakIntoEachOther() {
        var parser = FFmpegProgressParser()
        _ = parser.consume(line: "out_time_us=2000000")
        _ = parser.consume(line: "speed=2x")
        _ = parser.consume(line: "total_size=100")
        #expect(parser.consume(line: "progress=continue") == TranscodeProgress(outTimeSeconds: 2, speed: 2, totalSizeBytes: 100))
        #expect(parser.consume(line: "progress=continue") == TranscodeProgress())
    }

    @Test(arguments: ["", "garbage", "Press [q] to stop", "=5", "out_time_us=", "speed=fast", "out_time=-00:00:02.579922"])
    func ignoresNoise(line: String) {
        var parser = FFmpegProgressParser()
        #expect(parser.consume(line: line) == nil)
        #expect(parser.consume(line: "progress=continue") == TranscodeProgress())
    }
}
