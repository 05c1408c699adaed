import Foundation
import Hummingbird
import HummingbirdTesting
import SpoolCore
import SystemPackage
import Testing
@testable import SpoolServer

/// A finished file put in place the way the pipeline does it.
private struct StoredFile: Sendable {
    let id: JobID
    let name: String
    let bytes: [UInt8]

    var uri: String { DownloadPath.path(for: id, filename: name) }
}

/// 1000 known bytes, different for each `seed`.
private func knownBytes(seed: Int) -> [UInt8] {
    (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed &* 7 &+ $0 / 256) }
}

/// Builds the app in a fresh storage folder, stores one file per name (moved in from a scratch
/// file, as the pipeline does), then runs `body` against the router.
private func withStoredFiles(
    _ names: [String], _ body: @Sendable (any TestClientProtocol, [StoredFile]) async throws -> Void
) async throws {
    try await TestStorage.with { storage in
        let app = try await buildApplication(storage.configuration())
        let objectStore = LocalObjectStore(root: FilePath(storage.path))
        var files: [StoredFile] = []
        for (index, name) in names.enumerated() {
            let bytes = knownBytes(seed: index)
            let source = objectStore.scratchFolder.appending("upload-\(index)")
            try #require(FileManager.default.createFile(atPath: source.string, contents: Data(bytes)))
            let id = JobID.make()
            let stored = try objectStore.store(source, for: id, as: name)
            #expect(stored == objectStore.filesFolder.appending(id.rawValue).appending(name))
            #expect(!FileManager.default.fileExists(atPath: source.string), "the file is moved, not copied")
            files.append(StoredFile(id: id, name: name, bytes: bytes))
        }
        let stored = files
        try await app.test(.router) { client in
            try await body(client, stored)
        }
    }
}

private func bodyBytes(_ response: TestResponse) -> [UInt8] {
    Array(response.body.readableBytesView)
}

@Suite struct FilesRouterTests {
    @Test func wholeFileWithDownloadHeaders() async throws {
        try await withStoredFiles(["track.mp3"]) { client, files in
            let file = files[0]
            try await client.execute(uri: file.uri, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "audio/mpeg")
                #expect(response.headers[.contentDisposition] == #"attachment; filename="track.mp3"; filename*=UTF-8''track.mp3"#)
                #expect(response.headers[.acceptRanges] == "bytes")
                #expect(response.headers[.contentLength] == "1000")
                #expect(response.headers[.contentRange] == nil)
                #expect(response.headers[.lastModified]?.hasSuffix(" GMT") == true)
                let etag = try #require(response.headers[.eTag])
                #expect(etag.hasPrefix("\"3e8-") && etag.hasSuffix("\""), "strong ETag starting with the size in hex: \(etag)")
                #expect(bodyBytes(response) == file.bytes)
            }
        }
    }

    @Test(arguments: [
        ("song.mp3", "audio/mpeg"),
        ("clip.mp4", "video/mp4"),
        ("LOUD.MP3", "audio/mpeg"),
        ("notes.txt", "application/octet-stream"),
        ("archive.mp4.zip", "application/octet-stream"),
    ])
    func contentTypeFollowsTheExtension(_ name: String, _ contentType: String) async throws {
        try await withStoredFiles([name]) { client, files in
            try await client.execute(uri: files[0].uri, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == contentType)
                #expect(bodyBytes(response) == files[0].bytes)
            }
        }
    }

    struct RangeCase: Sendable, CustomTestStringConvertible {
        let header: String
        let status: HTTPResponse.Status
        let contentRange: String?
        let bytes: Range<Int>
        var testDescription: String { "\(header) → \(status.code)" }
    }

    @Test(arguments: [
        RangeCase(header: "bytes=0-99", status: .partialContent, contentRange: "bytes 0-99/1000", bytes: 0..<100),
        RangeCase(header: "bytes=-500", status: .partialContent, contentRange: "bytes 500-999/1000", bytes: 500..<1000),
        RangeCase(header: "bytes=-5000", status: .partialContent, contentRange: "bytes 0-999/1000", bytes: 0..<1000),
        RangeCase(header: "bytes=990-", status: .partialContent, contentRange: "bytes 990-999/1000", bytes: 990..<1000),
        RangeCase(header: "bytes=999-999", status: .partialContent, contentRange: "bytes 999-999/1000", bytes: 999..<1000),
        RangeCase(header: "bytes=500-5000", status: .partialContent, contentRange: "bytes 500-999/1000", bytes: 500..<1000),
        RangeCase(header: "bytes=1000-", status: .rangeNotSatisfiable, contentRange: "bytes */1000", bytes: 0..<0),
        RangeCase(header: "bytes=5000-6000", status: .rangeNotSatisfiable, contentRange: "bytes */1000", bytes: 0..<0),
        RangeCase(header: "bytes=-0", status: .rangeNotSatisfiable, contentRange: "bytes */1000", bytes: 0..<0),
        RangeCase(header: "bytes=0-99,200-299", status: .ok, contentRange: nil, bytes: 0..<1000),
        RangeCase(header: "bytes=99-0", status: .ok, contentRange: nil, bytes: 0..<1000),
        RangeCase(header: "bytes=abc", status: .ok, contentRange: nil, bytes: 0..<1000),
        RangeCase(header: "items=0-99", status: .ok, contentRange: nil, bytes: 0..<1000),
    ])
    func ranges(_ range: RangeCase) async throws {
        try await withStoredFiles(["track.mp3"]) { client, files in
            let file = files[0]
            try await client.execute(uri: file.uri, method: .get, headers: [.range: range.header]) { response in
                #expect(response.status == range.status)
                #expect(response.headers[.contentRange] == range.contentRange)
                #expect(response.headers[.contentLength] == String(range.bytes.count))
                #expect(bodyBytes(response) == Array(file.bytes[range.bytes]))
            }
        }
    }

    @Test func conditionalRequests() async throws {
        try await withStoredFiles(["track.mp3"]) { client, files in
            let file = files[0]
            let etag = try await client.execute(uri: file.uri, method: .get) { response in
                try #require(response.headers[.eTag])
            }

            try await client.execute(uri: file.uri, method: .get, headers: [.ifNoneMatch: etag]) { response in
                #expect(response.status == .notModified)
                #expect(response.headers[.eTag] == etag)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: file.uri, method: .get, headers: [.ifNoneMatch: "\"other\", \(etag)"]) { response in
                #expect(response.status == .notModified)
            }
            try await client.execute(uri: file.uri, method: .get, headers: [.ifNoneMatch: "*"]) { response in
                #expect(response.status == .notModified)
            }
            try await client.execute(uri: file.uri, method: .get, headers: [.ifNoneMatch: "\"stale\""]) { response in
                #expect(response.status == .ok)
                #expect(bodyBytes(response) == file.bytes)
            }

            // If-Range with a different validator: the file changed, so the whole file comes back.
            try await client.execute(uri: file.uri, method: .get, headers: [.range: "bytes=0-99", .ifRange: "\"stale\""]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentRange] == nil)
                #expect(bodyBytes(response) == file.bytes)
            }
            // If-Range with the current ETag: the range is honoured.
            try await client.execute(uri: file.uri, method: .get, headers: [.range: "bytes=100-199", .ifRange: etag]) { response in
                #expect(response.status == .partialContent)
                #expect(response.headers[.contentRange] == "bytes 100-199/1000")
                #expect(bodyBytes(response) == Array(file.bytes[100..<200]))
            }
        }
    }

    @Test func headGivesHeadersWithoutBody() async throws {
        try await withStoredFiles(["clip.mp4"]) { client, files in
            let file = files[0]
            let etag = try await client.execute(uri: file.uri, method: .get) { try #require($0.headers[.eTag]) }
            try await client.execute(uri: file.uri, method: .head) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "video/mp4")
                #expect(response.headers[.contentLength] == "1000")
                #expect(response.headers[.acceptRanges] == "bytes")
                #expect(response.headers[.eTag] == etag)
                #expect(response.headers[.contentDisposition]?.hasPrefix("attachment; ") == true)
                #expect(response.body.readableBytes == 0)
            }
            try await client.execute(uri: file.uri, method: .head, headers: [.range: "bytes=-10"]) { response in
                #expect(response.status == .partialContent)
                #expect(response.headers[.contentRange] == "bytes 990-999/1000")
                #expect(response.body.readableBytes == 0)
            }
        }
    }

    @Test func unicodeFilename() async throws {
        try await withStoredFiles(["Café ☕.mp3"]) { client, files in
            let file = files[0]
            #expect(file.uri == "/files/\(file.id)/Caf%C3%A9%20%E2%98%95.mp3")
            try await client.execute(uri: file.uri, method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "audio/mpeg")
                #expect(response.headers[.contentDisposition] == #"attachment; filename="Caf_ _.mp3"; filename*=UTF-8''Caf%C3%A9%20%E2%98%95.mp3"#)
                #expect(bodyBytes(response) == file.bytes)
            }
        }
    }

    @Test func contentDispositionEscapesQuotesAndBackslashes() {
        #expect(FilesController<AppRequestContext>.contentDisposition(#"a"b\c.mp3"#) == #"attachment; filename="a_b_c.mp3"; filename*=UTF-8''a%22b%5Cc.mp3"#)
    }

    @Test func unknownFilesAreNotFound() async throws {
        try await withStoredFiles(["track.mp3", ".hidden"]) { client, files in
            let file = files[0]
            let uris = [
                "/files/\(JobID.make())/track.mp3",  // unknown job
                "/files/\(file.id)/other.mp3",  // unknown name
                "/files/\(file.id)/TRACK.mp3",  // names are exact
                "/files/\(file.id.rawValue.uppercased())/track.mp3",  // not an id Spool makes
                "/files/not-an-id/track.mp3",
                "/files/\(file.id)/%2Ehidden",  // stored, but never served
                "/files/\(file.id)/.hidden",
                "/files/\(file.id)/track%00.mp3",
                "/files/\(file.id)",
                "/files/\(file.id)/",
            ]
            for uri in uris {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound, "\(uri)")
                    #expect(bodyBytes(response) != file.bytes)
                }
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }

    /// Traversal attempts never reach a file outside the job's folder. Names with an encoded slash
    /// get 404 from the files route.
    @Test func encodedSlashesAreNotFound() async throws {
        try await withStoredFiles(["track.mp3"]) { client, files in
            let file = files[0]
            for uri in [
                "/files/\(file.id)/a%2Fb.mp3",
                "/files/\(file.id)/x%2Ftrack.mp3",
                "/files/\(file.id)/x%5Ctrack.mp3",
                "/files/\(file.id)/%2Fetc%2Fpasswd",
                "/files/\(file.id)%2Ftrack.mp3",
            ] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound, "\(uri)")
                    #expect(bodyBytes(response) != file.bytes)
                }
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }

    /// `..` never reaches the job store or another job's file: the files route answers 404.
    /// What the client finally sees is decided by the `FileMiddleware` in front of every route,
    /// which turns any 404 whose decoded path contains `..` into a bodiless 400.
    @Test func dotDotIsRefused() async throws {
        try await withStoredFiles(["track.mp3", "other.mp3"]) { client, files in
            let file = files[0]
            let other = files[1]
            for uri in [
                "/files/\(file.id)/..%2F..%2Fjobs.sqlite",
                "/files/\(file.id)/%2E%2E%2F\(other.id)%2Fother.mp3",
                "/files/\(file.id)/x%2F..%2Ftrack.mp3",
                "/files/\(file.id)/x%5C..%5Ctrack.mp3",
                "/files/\(file.id)/%2E%2E",
                "/files/\(file.id)/..",
                "/files/\(file.id)/../\(other.id)/other.mp3",
                "/files/../jobs.sqlite",
            ] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .notFound || response.status == .badRequest, "\(uri): \(response.status)")
                    let body = bodyBytes(response)
                    #expect(body != file.bytes && body != other.bytes)
                    #expect(!String(decoding: body, as: UTF8.self).contains("SQLite format"))
                }
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                }
            }
        }
    }

    /// If-None-Match uses the weak comparison (RFC 9110 §13.1.2): `W/"x"` matches `"x"`.
    @Test func weakIfNoneMatchMatches() async throws {
        try await withStoredFiles(["track.mp3"]) { client, files in
            let file = files[0]
            let etag = try await client.execute(uri: file.uri, method: .get) { try #require($0.headers[.eTag]) }
            try await client.execute(uri: file.uri, method: .get, headers: [.ifNoneMatch: "W/\(etag)"]) { response in
                #expect(response.status == .notModified)
            }
        }
    }
}
