import Foundation
import SpoolCore

/// A decoded client frame: `{"type": …, "id"?: …, "payload"?: {…}}`.
///
/// Decoding is strict about shape and generous about detail: a correlation `id` may be a string or
/// a number, and every problem becomes a ``SpoolError`` with a code the client can act on.
enum ClientMessage {
    case startConversion(ConversionRequest)
    case subscribeJob(jobId: String, after: Int?)
    case unsubscribeJob(jobId: String)
    case cancelJob(jobId: String)
    case ping

    /// Decodes a frame; on failure returns the error and whatever correlation id could be read.
    static func decode(_ text: String) -> (message: ClientMessage?, id: String?, error: SpoolError?) {
        let data = Data(text.utf8)
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            return (nil, nil, .badMessage("The message is not valid JSON."))
        }
        guard let envelope = object as? [String: Any] else {
            return (nil, nil, .badMessage("The message must be a JSON object with a 'type'."))
        }
        let id: String? =
            switch envelope["id"] {
            case let text as String: String(text.prefix(128))
            case let number as NSNumber: number.stringValue
            default: nil
            }
        guard let type = envelope["type"] as? String else { return (nil, id, .missingField("type")) }
        let payload = envelope["payload"] as? [String: Any] ?? [:]
        if envelope["payload"] != nil && envelope["payload"] as? [String: Any] == nil && !(envelope["payload"] is NSNull) {
            return (nil, id, .badMessage("The 'payload' must be a JSON object."))
        }
        do {
            return (try message(type: type, payload: payload), id, nil)
        } catch let error as SpoolError {
            return (nil, id, error)
        } catch {
            return (nil, id, .badMessage("The payload could not be read."))
        }
    }

    private static func message(type: String, payload: [String: Any]) throws -> ClientMessage {
        switch type {
        case "start_conversion":
            let data = try JSONSerialization.data(withJSONObject: payload)
            do {
                return .startConversion(try JSONDecoder().decode(ConversionRequest.self, from: data))
            } catch let error as SpoolError {
                throw error
            } catch {
                throw SpoolError.badMessage("The fields of start_conversion must be strings (url, format, quality, platform).")
            }
        case "subscribe_job":
            let after: Int?
            switch payload["after"] {
            case nil, is NSNull: after = nil
            case let number as NSNumber where number.intValue >= 0 && Double(number.intValue) == number.doubleValue: after = number.intValue
            default: throw SpoolError.badMessage("'after' must be a non-negative whole number (the last seq you saw).")
            }
            return .subscribeJob(jobId: try jobID(payload), after: after)
        case "unsubscribe_job":
            return .unsubscribeJob(jobId: try jobID(payload))
        case "cancel_job":
            return .cancelJob(jobId: try jobID(payload))
        case "ping":
            return .ping
        default:
            throw SpoolError.unknownType(type)
        }
    }

    private static func jobID(_ payload: [String: Any]) throws -> String {
        guard let value = payload["jobId"] else { throw SpoolError.missingField("jobId") }
        guard let text = value as? String else { throw SpoolError.badMessage("'jobId' must be a string.") }
        return text
    }
}
