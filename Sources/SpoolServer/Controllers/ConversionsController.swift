import Foundation
import HTTPTypes
import Hummingbird
import SpoolCore

/// `POST/GET/DELETE /api/conversions[/{jobId}]` and the Server-Sent Events fallback.
///
/// Everything here is a thin mapping onto ``JobCoordinator``: the HTTP answers carry the same
/// payloads as the WebSocket, so a client can switch transports without another model.
struct ConversionsController<Context: RequestContext> {
    let coordinator: JobCoordinator
    /// Request bodies larger than this are refused before being read whole.
    let maxBodyBytes: Int
    let keepAliveInterval: Duration

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post(use: create)
        routes.get(":jobId", use: show)
        routes.delete(":jobId", use: cancel)
        routes.get(":jobId/events", use: events)
        return routes
    }

    @Sendable func create(_ request: Request, context: Context) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            throw APIError(.messageTooLarge(limit: maxBodyBytes))
        }
        let conversion: ConversionRequest
        do {
            conversion = try JSONDecoder().decode(ConversionRequest.self, from: Data(body.readableBytesView))
        } catch let error as SpoolError {
            throw APIError(error)
        } catch {
            throw APIError(.badMessage("The body must be a JSON object with url, format and optional quality."))
        }
        do {
            let job = try await coordinator.submit(try conversion.validated())
            return try JSONResponse.make(
                EventPayload(job: job, kind: nil, at: Date()),
                status: .accepted,
                headers: [.location: "/api/conversions/\(job.id)"]
            )
        } catch let error as SpoolError {
            throw APIError(error)
        }
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        let id = try jobID(context)
        do {
            guard let job = try await coordinator.job(id) else { throw APIError(.jobNotFound(id.rawValue)) }
            return try JSONResponse.make(EventPayload(job: job, kind: nil, at: Date()))
        } catch let error as SpoolError {
            throw APIError(error)
        }
    }

    @Sendable func cancel(_ request: Request, context: Context) async throws -> Response {
        let id = try jobID(context)
        do {
            let job = try await coordinator.cancel(id)
            return try JSONResponse.make(EventPayload(job: job, kind: nil, at: Date()), status: .accepted)
        } catch let error as SpoolError {
            throw APIError(error)
        }
    }

    /// SSE: `id:` is the event's `seq`; `Last-Event-ID` (or `?after=`) resumes after it. The
    /// stream ends after the job's terminal event.
    @Sendable func events(_ request: Request, context: Context) async throws -> Response {
        let id = try jobID(context)
        let lastEventID = request.headers[HTTPField.Name("Last-Event-ID")!] ?? request.uri.queryParameters.get("after")
        let after = lastEventID.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let queue = FrameQueue()
        let subscription: SubscriptionResult
        do throws(SpoolError) {
            subscription = try await coordinator.subscribe(queue, to: id, after: after, replyID: nil)
        } catch {
            throw APIError(error)
        }
        if !subscription.isLive { queue.finish() }
        let coordinator = self.coordinator
        let keepAliveInterval = self.keepAliveInterval
        let snapshotSeq = subscription.job.seq
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .init("X-Accel-Buffering")!: "no"],
            body: ResponseBody { writer in
                await withTaskGroup(of: Void.self) { group in
                    group.addTask {
                        // Comments keep proxies from closing an idle stream.
                        while !Task.isCancelled {
                            try? await Task.sleep(for: keepAliveInterval)
                            queue.deliver(reply: "")
                        }
                    }
                    var writer = writer
                    while let item = await queue.next() {
                        let text = SSEFormat.format(item, snapshotSeq: snapshotSeq)
                        do {
                            try await writer.write(ByteBuffer(string: text))
                        } catch {
                            break
                        }
                        if case .event(let event) = item, event.isTerminal { break }
                    }
                    group.cancelAll()
                    try? await writer.finish(nil)
                }
                _ = await coordinator.unsubscribe(queue, from: id)
            }
        )
    }

    private func jobID(_ context: Context) throws -> JobID {
        let text = context.parameters.get("jobId") ?? ""
        guard let id = JobID(validating: text) else { throw APIError(.jobNotFound(text)) }
        return id
    }
}

/// The text of one Server-Sent Event.
enum SSEFormat {
    static func format(_ item: FrameQueue.Item, snapshotSeq: Int) -> String {
        switch item {
        case .event(let event):
            return "id: \(event.seq)\nevent: \(event.kind.rawValue)\ndata: \(event.frame)\n\n"
        case .reply(let frame) where frame.isEmpty:
            return ": keep-alive\n\n"
        case .reply(let frame):
            return "id: \(snapshotSeq)\nevent: job_state\ndata: \(frame)\n\n"
        }
    }
}
