/// The body an `http` webhook gets (docs/architecture.md: "Signed HTTPS endpoints"): Standard
/// Webhooks' shape, `{"type", "timestamp", "data"}`. `type` is the event, `timestamp` when it
/// happened (the same for every attempt), `data` the server it is about (`id`, `name`, `status`)
/// beside the event's own data. An event data field named `server` is replaced by the server:
/// the one name the service owns. The test message is `webhook.test`. A collapse window's summary
/// (README "Crash loops collapsed") has the event's type, the last event's time, and in `data` the
/// server and `collapsed`: `count` (every event of the window, the first one posted included),
/// `first`, `last` and `windowSeconds`; not the data of any one event.
public enum StandardWebhooksMessage {
    public static func body(for payload: JSONValue) -> JSONValue {
        let event = payload["event"]?.stringValue ?? ""
        var data: [String: JSONValue] = [:]
        if case .object(let eventData)? = payload["data"] { data = eventData }
        if let server = payload["server"] { data["server"] = server }
        if event == DiscordMessage.testEvent { data["message"] = .string("Webhook connected") }
        return .object(["type": .string(event), "timestamp": payload["timestamp"] ?? .null, "data": .object(data)])
    }

    public static func summary(for payload: JSONValue, window sent: CollapsedSend) -> JSONValue {
        var data: [String: JSONValue] = [:]
        if let server = payload["server"] { data["server"] = server }
        data["collapsed"] = .object([
            "count": .int(Int64(sent.window.count)), "first": .string(sent.window.first),
            "last": .string(sent.window.last), "windowSeconds": .int(Int64(sent.windowSeconds)),
        ])
        return .object(["type": .string(sent.event), "timestamp": .string(sent.window.last), "data": .object(data)])
    }
}
