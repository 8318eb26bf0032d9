import FoundationEssentials
import Glibc

/// The body Discord gets for a delivery (docs/architecture.md: "A delivery"): one embed with the
/// event as a title, a colour by meaning, the server and the event's data as fields, and
/// `allowed_mentions` that ping no one but the webhook's `mentions` for the event (`Pings`): those
/// are the `content`, `<@&role>` and `<@user>`, and `allowed_mentions` lists exactly them with an
/// empty `parse`, so nothing else can ping, whatever the event's data says (Discord never pings
/// from an embed either). Everything is clipped to Discord's limits, counted in Unicode scalars.
public enum DiscordMessage {
    public static let testEvent = "webhook.test"

    enum Limit {
        static let title = 256
        static let fieldName = 256
        static let fieldValue = 1024
        static let fields = 25
        static let embedTotal = 6000
    }

    enum Colour {
        static let green: Int64 = 65280
        static let red: Int64 = 16_711_680
        static let yellow: Int64 = 16_776_960
        static let blue: Int64 = 39423
    }

    /// The body for a stored event payload; a `webhook.test` payload gives the test message.
    public static func body(for payload: JSONValue, footer: String, pings: Pings = .none) -> JSONValue {
        let event = payload["event"]?.stringValue ?? ""
        let timestamp = payload["timestamp"] ?? .null
        if event == testEvent {
            return test(timestamp: timestamp, footer: footer)
        }
        return wrap(
            embed(
                title: clip(title(for: event), Limit.title), description: nil, colour: colour(for: event),
                fields: fields(of: payload), timestamp: timestamp, footer: footer),
            pings: pings)
    }

    /// The message `POST /webhooks/{id}/test` sends.
    public static func test(timestamp: JSONValue, footer: String) -> JSONValue {
        wrap(
            embed(
                title: testTitle, description: testDescription, colour: Colour.blue, fields: [],
                timestamp: timestamp, footer: footer))
    }

    /// The test message's words, on every provider that shows one to a person.
    static let testTitle = "🔔 Test"
    static let testDescription = "Webhook connected"

    /// "🔔 Backup Created": an event's title, on every provider that shows one to a person.
    static func title(for event: String) -> String { "🔔 " + words(event) }

    /// What a person reads of a stored payload, in order: the server's name and status, then the
    /// data's strings, numbers and booleans by name. Discord's embed and Slack's section show these.
    static func fields(of payload: JSONValue) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        if case .object(let server)? = payload["server"] {
            fields.append(("Server", text(server["name"])))
            fields.append(("Status", text(server["status"])))
        }
        if case .object(let data)? = payload["data"] {
            for key in data.keys.sorted() {
                guard let value = data[key], let shown = scalarText(value) else { continue }
                fields.append((words(key), shown))
            }
        }
        return fields
    }

    /// The payload stored for a test delivery, so a manual retry of it renders the test again.
    public static func testPayload(timestamp: String) -> JSONValue {
        .object(["event": .string(testEvent), "timestamp": .string(timestamp), "data": .object([:])])
    }

    /// Green for good news, red for bad, yellow for warnings, blue for the rest, by the event's
    /// last word.
    static func colour(for event: String) -> Int64 {
        let action = event.split(separator: ".").last.map(String.init) ?? ""
        switch action {
        case "started", "created", "completed", "restored", "unsuspended": return Colour.green
        case "stopped", "crashed", "failed", "deleted", "suspended", "critical": return Colour.red
        case "warning", "auto_shutdown": return Colour.yellow
        default: return Colour.blue
        }
    }

    /// `server.auto_shutdown` → "Server Auto Shutdown", `backupId` → "Backup Id".
    static func words(_ name: String) -> String {
        var words: [String] = []
        var current = ""
        for character in name {
            if character == "." || character == "_" || character == "-" || character == " " {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else if character.isUppercase, let last = current.last, !last.isUppercase {
                words.append(current)
                current = String(character)
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words.map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
    }

    /// A message that pings no one has no `content` and `{"parse": []}`, as before mentions.
    static func wrap(_ embed: JSONValue, pings: Pings = .none) -> JSONValue {
        var message: [String: JSONValue] = ["embeds": .array([embed])]
        var allowed: [String: JSONValue] = ["parse": .array([])]
        if !pings.isEmpty {
            message["content"] = .string(content(pinging: pings))
            allowed["roles"] = .array(pings.roles.map { .string($0) })
            allowed["users"] = .array(pings.users.map { .string($0) })
        }
        message["allowed_mentions"] = .object(allowed)
        return .object(message)
    }

    /// `<@&role> <@user>`: at most 10 of each (`MentionsInput`), snowflakes of at most 20 digits,
    /// so far within Discord's 2000 characters of content.
    static func content(pinging pings: Pings) -> String {
        (pings.roles.map { "<@&\($0)>" } + pings.users.map { "<@\($0)>" }).joined(separator: " ")
    }

    static func embed(
        title: String, description: String?, colour: Int64, fields: [(name: String, value: String)],
        timestamp: JSONValue, footer: String
    ) -> JSONValue {
        let footer = clip(footer, 2048)
        var budget = Limit.embedTotal - length(title) - length(footer) - (description.map(length) ?? 0)
        var rendered: [JSONValue] = []
        for (name, value) in fields.prefix(Limit.fields) {
            // Discord refuses a field that is empty or only white space: "—" stands in.
            let name = clip(name.allSatisfy(\.isWhitespace) ? "—" : name, Limit.fieldName)
            var value = clip(value.allSatisfy(\.isWhitespace) ? "—" : value, Limit.fieldValue)
            let room = budget - length(name)
            guard room >= 1 else { break }
            if length(value) > room { value = clip(value, room) }
            budget -= length(name) + length(value)
            rendered.append(.object(["name": .string(name), "value": .string(value), "inline": .bool(true)]))
        }
        var members: [String: JSONValue] = [
            "title": .string(title),
            "color": .int(colour),
            "fields": .array(rendered),
            "timestamp": timestamp,
            "footer": .object(["text": .string(footer)]),
        ]
        if let description { members["description"] = .string(description) }
        return .object(members)
    }

    private static func text(_ value: JSONValue?) -> String {
        value.flatMap(scalarText) ?? "—"
    }

    /// Strings, numbers and booleans are shown; objects, arrays and nulls are not.
    private static func scalarText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .double(let number): return number.isFinite ? "\(number)" : nil
        case .bool(let flag): return flag ? "true" : "false"
        case .null, .array, .object: return nil
        }
    }

    static func length(_ text: String) -> Int { text.unicodeScalars.count }

    /// At most `limit` scalars; a clipped text ends with "…".
    static func clip(_ text: String, _ limit: Int) -> String {
        guard length(text) > limit else { return text }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.prefix(limit - 1))
        scalars.append("…")
        return String(scalars)
    }
}
