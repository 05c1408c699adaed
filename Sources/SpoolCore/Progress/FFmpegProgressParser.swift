/// Turns the line stream of ffmpeg's `-progress pipe:1` into ``TranscodeProgress`` blocks.
///
/// Stateful because a block spans several lines: ffmpeg prints `key=value` lines and closes each
/// block with `progress=continue|end`. Fields are collected until that line and then forgotten, so
/// one block's values never leak into the next. Unknown keys (`frame`, `fps`, `bitrate`,
/// `stream_0_0_q`, ...) and lines without `=` are ignored rather than rejected: ffmpeg adds keys
/// between versions, and stderr noise should never stop progress from being read.
public struct FFmpegProgressParser: Sendable {
    private var outTimeMicroseconds: Double??
    private var outTimeMillisecondsField: Double??
    private var outTimeText: Double??
    private var speed: Double?
    private var totalSize: Int64?

    public init() {}

    /// Feed one line; returns a block when the line is `progress=...`, otherwise nil.
    public mutating func consume(line: String) -> TranscodeProgress? {
        guard let equals = line.firstIndex(of: "=") else { return nil }
        let key = line[..<equals].trimmingWhitespace()
        let value = line[line.index(after: equals)...].trimmingWhitespace()
        switch key {
        case "out_time_us":
            outTimeMicroseconds = .some(Self.decimal(value))
        case "out_time_ms":
            // Despite its name ffmpeg prints microseconds here too (the same number as out_time_us).
            outTimeMillisecondsField = .some(Self.decimal(value))
        case "out_time":
            outTimeText = .some(Self.clockTime(value))
        case "speed":
            speed = Self.speed(value)
        case "total_size":
            totalSize = Self.decimal(value).flatMap { $0 >= 0 && $0 < 9.0e18 ? Int64($0) : nil }
        case "progress":
            return finishBlock(isEnd: value == "end")
        default:
            break
        }
        return nil
    }

    private mutating func finishBlock(isEnd: Bool) -> TranscodeProgress {
        // The first of the three time fields that ffmpeg printed decides, even when it says N/A:
        // they all describe the same instant, so a later one cannot know better.
        let seconds: Double?
        if let micros = outTimeMicroseconds ?? outTimeMillisecondsField {
            seconds = micros.map { $0 / 1_000_000 }
        } else if let text = outTimeText {
            seconds = text
        } else {
            seconds = nil
        }
        let block = TranscodeProgress(
            outTimeSeconds: seconds.flatMap { $0 >= 0 ? $0 : nil },
            speed: speed,
            totalSizeBytes: totalSize,
            isEnd: isEnd
        )
        self = FFmpegProgressParser()
        return block
    }

    /// A plain decimal, or nil for `N/A` and anything else that is not a finite number.
    private static func decimal(_ text: Substring) -> Double? {
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// `1.5x` -> 1.5; ffmpeg pads the number with spaces (`speed=   0x`), already trimmed here.
    private static func speed(_ text: Substring) -> Double? {
        guard text.hasSuffix("x") else { return nil }
        return decimal(text.dropLast().trimmingWhitespace())
    }

    /// `[-]HH:MM:SS.ffffff` -> seconds (negative at the start of a seeked stream copy).
    private static func clockTime(_ text: Substring) -> Double? {
        let negative = text.hasPrefix("-")
        let parts = (negative ? text.dropFirst() : text).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let hours = Double(parts[0]), let minutes = Double(parts[1]), let seconds = Double(parts[2]) else {
            return nil
        }
        let total = hours * 3600 + minutes * 60 + seconds
        guard total.isFinite else { return nil }
        return negative ? -total : total
    }
}

extension Substring {
    /// Trims spaces, tabs and the `\r` of CRLF output without pulling in Foundation here.
    fileprivate func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first.isWhitespace { result.removeFirst() }
        while let last = result.last, last.isWhitespace { result.removeLast() }
        return result
    }
}
