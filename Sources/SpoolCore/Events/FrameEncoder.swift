import Foundation

/// Encodes `{"type":…,"id"?:…,"payload":…}` frames with the date and key conventions of the protocol.
///
/// Not `Sendable`: each owner (the job coordinator, a connection) keeps its own, which is cheaper
/// than locking a shared `JSONEncoder`.
public struct FrameEncoder {
    private let encoder: JSONEncoder

    public init() {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        self.encoder = encoder
    }

    /// The text of one frame. Encoding our own value types cannot fail short of a bug, so a failure
    /// becomes an `error` frame rather than a crash.
    public func frame(type: String, id: String? = nil, payload: some Encodable) -> String {
        encodedFrame(type: type, id: id, payload: payload)
    }

    /// A job event or snapshot: written by hand when it can be (``EventPayload/handWrittenFrame(type:id:)``,
    /// the same bytes), since every progress update of every job is encoded on the coordinator.
    public func frame(type: String, id: String? = nil, payload: EventPayload) -> String {
        payload.handWrittenFrame(type: type, id: id) ?? encodedFrame(type: type, id: id, payload: payload)
    }

    /// What `JSONEncoder` writes for the frame; tests compare the hand-written frames with it.
    func encodedFrame(type: String, id: String?, payload: some Encodable) -> String {
        let frame = Frame(type: type, id: id, payload: payload)
        guard let data = try? encoder.encode(frame) else {
            return #"{"payload":{"code":"INTERNAL_ERROR","message":"Could not encode a message."},"type":"error"}"#
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The same conventions for a bare value (HTTP bodies).
    public func encode(_ value: some Encodable) throws -> Data {
        try encoder.encode(value)
    }

    private struct Frame<Payload: Encodable>: Encodable {
        let type: String
        let id: String?
        let payload: Payload
    }
}
