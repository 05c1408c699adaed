import Foundation
import Hummingbird
import SpoolCore
import SystemPackage

/// `GET /files/{jobId}/{filename}`: the finished files, with the headers downloaders rely on.
///
/// A route of its own (not `FileMiddleware`) so that ranges are right: single ranges including
/// suffix ranges, 416 with `Content-Range: bytes */size` when unsatisfiable, `If-Range`, plus a
/// strong `ETag` and `If-None-Match` for resumable, cache-friendly downloads.
struct FilesController<Context: RequestContext> {
    let objectStore: LocalObjectStore
    let fileIO = FileIO()

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get(":jobId/:filename", use: download)
        routes.head(":jobId/:filename", use: download)
        return routes
    }

    @Sendable func download(_ request: Request, context: Context) async throws -> Response {
        guard let id = context.parameters.get("jobId").flatMap(JobID.init(validating:)),
            let filename = context.parameters.get("filename")?.removingPercentEncoding,
            let path = objectStore.storedFile(for: id, filename: filename),
            let attributes = try? FileManager.default.attributesOfItem(atPath: path.string),
            let size = (attributes[.size] as? NSNumber)?.intValue
        else {
            throw HTTPError(.notFound, message: "No such file.")
        }
        let modified = (attributes[.modificationDate] as? Date) ?? Date(timeIntervalSince1970: 0)
        let etag = "\"\(String(size, radix: 16))-\(String(Int(modified.timeIntervalSince1970 * 1000), radix: 16))\""
        var headers: HTTPFields = [
            .contentType: Self.mimeType(for: filename),
            .contentDisposition: Self.contentDisposition(filename),
            .eTag: etag,
            .acceptRanges: "bytes",
            .lastModified: HTTPDate.format(modified),
            .cacheControl: "private, max-age=86400",
        ]
        if let match = request.headers[.ifNoneMatch], Self.matchesWeakly(match, etag: etag) {
            return Response(status: .notModified, headers: headers)
        }
        var range = ByteRange.resolve(request.headers[.range], size: size)
        if let ifRange = request.headers[.ifRange], ifRange != etag { range = .whole }
        let isHead = request.method == .head
        switch range {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            headers[.contentLength] = "0"
            return Response(status: .rangeNotSatisfiable, headers: headers)
        case .partial(let bytes):
            headers[.contentRange] = "bytes \(bytes.lowerBound)-\(bytes.upperBound)/\(size)"
            headers[.contentLength] = String(bytes.count)
            let body = isHead ? ResponseBody() : try await fileIO.loadFile(path: path.string, range: bytes, context: context)
            return Response(status: .partialContent, headers: headers, body: body)
        case .whole:
            headers[.contentLength] = String(size)
            let body = isHead ? ResponseBody() : try await fileIO.loadFile(path: path.string, context: context)
            return Response(status: .ok, headers: headers, body: body)
        }
    }


    /// `If-None-Match` uses the weak comparison (RFC 9110 §13.1.2): `W/"x"` matches `"x"`.
    static func matchesWeakly(_ header: String, etag: String) -> Bool {
        func opaque(_ tag: Substring) -> Substring {
            let trimmed = tag.drop(while: { $0 == " " || $0 == "\t" })
            return trimmed.hasPrefix("W/") ? trimmed.dropFirst(2) : trimmed
        }
        return header.split(separator: ",").contains { tag in
            let value = opaque(tag).trimmingCharacters(in: .whitespaces)
            return value == "*" || value == etag
        }
    }

    static func mimeType(for filename: String) -> String {
        switch filename.split(separator: ".").last?.lowercased() {
        case "mp3": MediaFormat.mp3.mimeType
        case "mp4": MediaFormat.mp4.mimeType
        default: "application/octet-stream"
        }
    }

    /// `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 8187).
    static func contentDisposition(_ filename: String) -> String {
        let ascii = String(filename.unicodeScalars.map { $0.isASCII && $0 != "\"" && $0 != "\\" && $0.value >= 0x20 ? Character($0) : "_" })
        let encoded = filename.addingPercentEncoding(withAllowedCharacters: HTTPDate.unreserved) ?? ascii
        return "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
    }
}

/// Formats for HTTP headers (shared by the files route).
enum HTTPDate {
    /// RFC 3986 unreserved characters.
    static let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    /// The IMF-fixdate of RFC 9110, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func format(_ date: Date) -> String {
        date.formatted(
            Date.VerbatimFormatStyle(
                format: "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) GMT",
                locale: Locale(identifier: "en_US_POSIX"),
                timeZone: TimeZone(identifier: "GMT")!,
                calendar: Calendar(identifier: .gregorian)
            )
        )
    }
}
