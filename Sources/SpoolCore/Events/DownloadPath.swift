import Foundation

/// The public path of a finished file: `/files/{jobId}/{filename}`, the filename percent-encoded.
public enum DownloadPath {
    public static let prefix = "/files"

    public static func path(for id: JobID, filename: String) -> String {
        "\(prefix)/\(id.rawValue)/\(filename.addingPercentEncoding(withAllowedCharacters: pathSegmentAllowed) ?? "download")"
    }

    /// RFC 3986 unreserved characters only, so the path is safe in any client.
    private static let pathSegmentAllowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
}
