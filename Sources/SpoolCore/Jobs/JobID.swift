import Foundation

/// A job's identity: a lowercase UUID.
///
/// Ids arrive from URLs and WebSocket frames, and they name folders under `storage/`, so every id
/// from outside goes through ``init(validating:)``: only `[0-9a-f-]` can ever reach a path.
public struct JobID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// Accepts only the shape Spool itself creates (36 characters of hex digits and dashes).
    public init?(validating text: String) {
        guard text.utf8.count == 36, text.utf8.allSatisfy({ Self.allowed.contains($0) }) else { return nil }
        self.rawValue = text
    }

    /// A fresh random id.
    public static func make() -> JobID {
        JobID(rawValue: UUID().uuidString.lowercased())
    }

    public var description: String { rawValue }

    private static let allowed = Set("0123456789abcdef-".utf8)
}
