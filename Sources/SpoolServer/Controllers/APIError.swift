import Foundation
import Hummingbird
import SpoolCore

/// A ``SpoolError`` at the HTTP edge: the same `{code, message, retryable, details?}` the
/// WebSocket sends, under `error`, with a status that fits the code.
struct APIError: HTTPResponseError {
    let error: SpoolError

    init(_ error: SpoolError) {
        self.error = error
    }

    var status: HTTPResponse.Status {
        switch error.code {
        case "JOB_NOT_FOUND": .notFound
        case "JOB_ALREADY_FINISHED": .conflict
        case "MESSAGE_TOO_LARGE": .contentTooLarge
        case "STORAGE_FAILED", "TOOL_MISSING": .serviceUnavailable
        case "INTERNAL_ERROR": .internalServerError
        default: .badRequest
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = (try? FrameEncoder().encode(["error": error])) ?? Data(#"{"error":{"code":"INTERNAL_ERROR"}}"#.utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body))
        )
    }
}
