import Foundation

/// One server frame as text, with accessors for the fields tests look at.
struct Frame: Sendable, CustomStringConvertible {
    let text: String

    private var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    var type: String { object["type"] as? String ?? "" }
    var id: String? { object["id"] as? String }
    var payload: [String: Any] { object["payload"] as? [String: Any] ?? [:] }

    func string(_ key: String) -> String? { payload[key] as? String }
    func int(_ key: String) -> Int? { (payload[key] as? NSNumber)?.intValue }
    func double(_ key: String) -> Double? { (payload[key] as? NSNumber)?.doubleValue }
    func bool(_ key: String) -> Bool? { (payload[key] as? NSNumber)?.boolValue }
    func object(_ key: String) -> [String: Any]? { payload[key] as? [String: Any] }

    var jobId: String? { string("jobId") }
    var seq: Int? { int("seq") }
    var step: String? { string("currentStep") }
    var progress: Double? { double("progress") }
    /// `error.code` in a `conversion_failed` payload, or `code` in an `error` frame.
    var errorCode: String? { object("error")?["code"] as? String ?? (type == "error" ? string("code") : nil) }
    var isTerminal: Bool { ["conversion_completed", "conversion_failed", "conversion_cancelled"].contains(type) }

    var description: String { text }
}

/// Builds a client frame.
func clientFrame(_ type: String, id: String? = nil, payload: [String: Any]? = nil) -> String {
    var object: [String: Any] = ["type": type]
    if let id { object["id"] = id }
    if let payload { object["payload"] = payload }
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    return String(decoding: data, as: UTF8.self)
}
