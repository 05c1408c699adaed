import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore

/// A loopback web server that plays "the internet" for the end-to-end tests: it serves the
/// generated media with proper types and lengths, a throttled variant (so a test can act while a
/// download is under way), and real 404s.
enum OriginServer {
    /// Runs the origin on a free loopback port for the duration of `body`, which gets its base URL.
    static func run<Value: Sendable>(_ body: @Sendable @escaping (String) async throws -> Value) async throws -> Value {
        let folder = TestMedia.shared.folder
        let router = Router()
        let fileIO = FileIO()
        router.get("media/:name") { request, context -> Response in
            let (path, size, type) = try await locate(context.parameters.get("name"), in: folder)
            let body = try await fileIO.loadFile(path: path, context: context)
            return Response(status: .ok, headers: [.contentType: type, .contentLength: String(size)], body: body)
        }
        router.get("slow/:name") { request, context -> Response in
            // ?rate= bytes per second (default 400 kB/s).
            let (path, size, type) = try await locate(context.parameters.get("name"), in: folder)
            let rate = request.uri.queryParameters.get("rate").flatMap(Int.init) ?? 400_000
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return Response(
                status: .ok,
                headers: [.contentType: type, .contentLength: String(size)],
                body: ResponseBody { writer in
                    let chunk = max(1024, rate / 10)
                    var offset = 0
                    while offset < data.count {
                        let end = min(offset + chunk, data.count)
                        try await writer.write(ByteBuffer(bytes: data[offset..<end]))
                        offset = end
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    try await writer.finish(nil)
                }
            )
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await app.test(.live) { client in
            guard let port = client.port else { throw TestFailure("origin has no port") }
            return try await body("http://127.0.0.1:\(port)")
        }
    }

    private static func locate(_ name: String?, in folder: URL) async throws -> (String, Int, String) {
        guard let name, !name.contains("/"), !name.hasPrefix(".") else { throw HTTPError(.notFound) }
        let path = folder.appendingPathComponent(name).path
        guard let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber else { throw HTTPError(.notFound) }
        let type: String =
            switch (name as NSString).pathExtension {
            case "mp4": "video/mp4"
            case "mkv": "video/x-matroska"
            case "html": "text/html; charset=utf-8"
            default: "application/octet-stream"
            }
        return (path, size.intValue, type)
    }
}
