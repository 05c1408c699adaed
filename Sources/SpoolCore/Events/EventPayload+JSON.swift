import Foundation

extension EventPayload {
    /// The frame `{"id"?:…,"payload":{…},"type":…}` written by hand, byte for byte what
    /// ``FrameEncoder``'s `JSONEncoder` writes for it (keys sorted, slashes not escaped, doubles
    /// without a trailing `.0`, the same timestamp format); the tests hold the two side by side.
    ///
    /// Why: job events are encoded on the coordinator, the one place every progress update of every
    /// job passes through in turn, and `JSONEncoder` was the largest single cost there (BENCHMARKS.md).
    /// Nil when the payload carries a nested value (result metadata, metrics, an error) or a
    /// non-finite number: those rare frames are left to `JSONEncoder`.
    func handWrittenFrame(type: String, id: String?) -> String? {
        guard metadata == nil, metrics == nil, error == nil else { return nil }
        let doubles = [progress, etaSeconds, speedBytesPerSecond, durationSeconds].compactMap { $0 }
        guard doubles.allSatisfy(\.isFinite) else { return nil }

        var json = JSONText()
        json.open()
        if let id { json.member("id", string: id) }
        json.key("payload")
        json.open()
        // In sorted key order, as `.sortedKeys` writes them.
        json.member("createdAt", date: createdAt)
        json.member("currentStep", string: currentStep.rawValue)
        json.member("downloadUrl", string: downloadUrl)
        json.member("durationSeconds", number: durationSeconds)
        json.member("etaSeconds", number: etaSeconds)
        json.member("filename", string: filename)
        json.member("format", string: format)
        json.member("jobId", string: jobId)
        json.member("message", string: message)
        json.member("progress", number: progress)
        json.member("quality", string: quality)
        json.member("queuePosition", literal: queuePosition.map { String($0) })
        json.member("resync", literal: resync.map { $0 ? "true" : "false" })
        json.member("seq", literal: String(seq))
        json.member("speedBytesPerSecond", number: speedBytesPerSecond)
        json.member("status", string: status.rawValue)
        json.member("thumbnailUrl", string: thumbnailUrl)
        json.member("timestamp", date: timestamp)
        json.member("title", string: title)
        json.member("url", string: url)
        json.close()
        json.member("type", string: type)
        json.close()
        return json.text
    }
}

/// JSON being written, member by member: what `JSONEncoder` would write for each value. Objects
/// nest one level here (the frame and its payload), so one flag says whether a comma is due.
private struct JSONText {
    private(set) var text = ""
    private var commaDue = false

    init() {
        text.reserveCapacity(384)
    }

    mutating func open() {
        text += "{"
        commaDue = false
    }

    mutating func close() {
        text += "}"
        commaDue = true
    }

    mutating func key(_ key: String) {
        if commaDue { text += "," }
        commaDue = true
        text += "\""
        text += key
        text += "\":"
    }

    mutating func member(_ key: String, string value: String?) {
        guard let value else { return }
        self.key(key)
        appendQuoted(value)
    }

    mutating func member(_ key: String, number value: Double?) {
        guard let value else { return }
        self.key(key)
        // `JSONEncoder` writes a double's description, without a trailing ".0".
        var digits = value.description
        if digits.hasSuffix(".0") { digits.removeLast(2) }
        text += digits
    }

    mutating func member(_ key: String, literal value: String?) {
        guard let value else { return }
        self.key(key)
        text += value
    }

    mutating func member(_ key: String, date value: Date?) {
        guard let value else { return }
        self.key(key)
        appendQuoted(value.formatted(Self.timestampStyle))
    }

    private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// A JSON string: `"` and `\` escaped, control characters as `\n`-style or `\u00xx` escapes,
    /// everything else (`/` and all of Unicode) as it is.
    private mutating func appendQuoted(_ value: String) {
        text += "\""
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            text += value
        } else {
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": text += "\\\""
                case "\\": text += "\\\\"
                case "\n": text += "\\n"
                case "\r": text += "\\r"
                case "\t": text += "\\t"
                case "\u{08}": text += "\\b"
                case "\u{0C}": text += "\\f"
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }
}
