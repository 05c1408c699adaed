import Foundation

/// The rules a source URL must pass before it may reach `yt-dlp`.
///
/// Only absolute http(s) URLs with a host are accepted. A leading `-` is refused outright (and the
/// pipeline also passes `--` before the URL) so that no URL can ever be read as a yt-dlp option.
public enum SourceURL {
    public static let maxLength = 2048

    /// Returns the URL text, trimmed, when it is acceptable.
    public static func validate(_ text: String) throws(SpoolError) -> String {
        let url = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !url.hasPrefix("-") else { throw .invalidURL("A URL cannot start with '-'.") }
        guard url.utf8.count <= maxLength else { throw .invalidURL("The URL is longer than \(maxLength) characters.") }
        guard !url.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.isWhitespace }) else {
            throw .invalidURL("The URL contains spaces or control characters.")
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw .invalidURL("That is not a URL; paste a link that starts with http:// or https://.")
        }
        guard scheme == "http" || scheme == "https" else {
            throw .invalidURL("Only http and https URLs are supported, not '\(scheme.prefix(16)):'.")
        }
        guard let host = components.host, !host.isEmpty else { throw .invalidURL("The URL has no host.") }
        return url
    }
}
