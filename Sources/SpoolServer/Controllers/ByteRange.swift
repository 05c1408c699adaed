import Foundation

/// A single `Range: bytes=…` request resolved against a file size (RFC 9110 §14).
///
/// Parsed here rather than by Hummingbird's `FileMiddleware`, which answers suffix ranges
/// (`bytes=-500`) wrongly and gives 206 with a negative length where 416 is due.
enum ByteRange: Equatable {
    /// No usable range: send the whole file with 200 (also for multiple ranges, which Spool does not serve).
    case whole
    /// Send these bytes with 206.
    case partial(ClosedRange<Int>)
    /// No byte of the file is in the range: 416.
    case unsatisfiable

    static func resolve(_ header: String?, size: Int) -> ByteRange {
        guard let header else { return .whole }
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.lowercased().hasPrefix("bytes=") else { return .whole }
        let spec = trimmed.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(",") else { return .whole }
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .whole }
        let first = parts[0].trimmingCharacters(in: .whitespaces)
        let last = parts[1].trimmingCharacters(in: .whitespaces)
        if first.isEmpty {
            // Suffix range: the last N bytes.
            guard let suffix = Int(last), suffix >= 0, last.allSatisfy(\.isNumber) else { return .whole }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .partial(max(0, size - suffix)...(size - 1))
        }
        guard let start = Int(first), first.allSatisfy(\.isNumber) else { return .whole }
        let end: Int
        if last.isEmpty {
            end = size - 1
        } else {
            guard let value = Int(last), last.allSatisfy(\.isNumber), value >= start else { return .whole }
            end = min(value, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .partial(start...end)
    }
}
