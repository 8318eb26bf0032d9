import FoundationEssentials

/// The body Slack gets for a delivery (docs/architecture.md: "Slack"): Block Kit with the words of
/// Discord's embed (`DiscordMessage`): a header with the event's title, sections with the server
/// and the event's data as fields, a context line with the footer and the time, and a `text`
/// fallback for notifications. No user text can ping or link: it is plain_text where Block Kit
/// has it, and mrkdwn elsewhere is escaped (`&`, `<`, `>`, api.slack.com/docs/message-formatting)
/// and `verbatim`, so Slack neither parses @here nor links names or URLs; `link_names` is never set.
/// The only control sequences are ours: the date, and the webhook's `mentions` for the event
/// (`Pings`), `<!subteam^S…>` and `<@U…>` in a section under the header and at the start of `text`.
/// Everything is clipped to Slack's limits, counted in Unicode scalars.
public enum SlackMessage {
    /// From api.slack.com/reference/block-kit/blocks and .../composition-objects: a header's text
    /// at most 150 characters; a section's fields at most 10, each at most 2000; a text object at
    /// most 3000; at most 50 blocks and 10 context elements (we send at most 5 and 2). A message's
    /// `text` may be longer, but 3000 is what every text object takes.
    enum Limit {
        static let header = 150
        static let fieldText = 2000
        static let fieldsPerSection = 10
        static let text = 3000
        /// As many fields as Discord's embed shows, so both show the same: three sections.
        static let fields = DiscordMessage.Limit.fields
    }

    /// The body for a stored event payload; a `webhook.test` payload gives the test message.
    public static func body(for payload: JSONValue, footer: String, pings: Pings = .none) -> JSONValue {
        let event = payload["event"]?.stringValue ?? ""
        let time = payload["timestamp"]?.stringValue.flatMap(Timestamp.parse)
        if event == DiscordMessage.testEvent {
            let note = JSONValue.object(["type": .string("section"), "text": plainText(DiscordMessage.testDescription)])
            return message(
                title: DiscordMessage.testTitle, sections: [note], fallback: [DiscordMessage.testDescription],
                footer: footer, time: time)
        }
        return eventMessage(
            for: payload, title: DiscordMessage.title(for: event), footer: footer, time: time, pings: pings)
    }

    /// A collapse window's summary (README "Crash loops collapsed"): Discord's collapsed title
    /// ("🔔 Server Crashed ×3 in 10 min"), the first and the last event's time, then the event's
    /// fields, dated by the last. Its pings are the event's: it is a new message.
    public static func summary(for payload: JSONValue, window: CollapsedSend, footer: String, pings: Pings = .none)
        -> JSONValue
    {
        eventMessage(
            for: payload, title: CollapsedMessage.title(of: window), footer: footer,
            time: Timestamp.parse(window.window.last), pings: pings,
            leading: [("First", window.window.first), ("Last", window.window.last)])
    }

    private static func eventMessage(
        for payload: JSONValue, title: String, footer: String, time: Date?, pings: Pings,
        leading: [(name: String, value: String)] = []
    ) -> JSONValue {
        let fields = (leading + DiscordMessage.fields(of: payload)).prefix(Limit.fields).map { field in
            // Slack refuses an empty text, and one of only white space shows nothing: "—" stands in.
            (name: shown(field.name), value: shown(field.value))
        }
        var sections: [JSONValue] = []
        for start in stride(from: 0, to: fields.count, by: Limit.fieldsPerSection) {
            let chunk = fields[start..<min(start + Limit.fieldsPerSection, fields.count)]
            sections.append(.object(["type": .string("section"), "fields": .array(chunk.map(fieldText))]))
        }
        return message(
            title: title, sections: sections,
            fallback: fields.map { "\($0.name): \($0.value)" }, footer: footer, time: time, pings: pings)
    }

    private static func message(
        title: String, sections: [JSONValue], fallback: [String], footer: String, time: Date?, pings: Pings = .none
    ) -> JSONValue {
        let header = JSONValue.object([
            "type": .string("header"), "text": plainText(DiscordMessage.clip(title, Limit.header)),
        ])
        var context = [plainText(DiscordMessage.clip(footer, Limit.text))]
        if let time {
            // Slack shows the time in each reader's own zone; the fallback is the stored timestamp.
            let seconds = Int64(time.timeIntervalSince1970.rounded(.down))
            context.append(
                mrkdwn("<!date^\(seconds)^{date_short_pretty} {time_secs}|\(Timestamp.format(time))>"))
        }
        let lines = ([title] + fallback).joined(separator: "\n")
        var sections = sections
        var text = escaped(lines, limit: Limit.text)
        if !pings.isEmpty {
            // Pings in the text notifications show, and under the header in the message.
            let line = mentions(pinging: pings)
            sections.insert(.object(["type": .string("section"), "text": mrkdwn(line)]), at: 0)
            text = line + "\n" + escaped(lines, limit: Limit.text - 1 - DiscordMessage.length(line))
        }
        let blocks = [header] + sections + [.object(["type": .string("context"), "elements": .array(context)])]
        return .object(["text": .string(text), "blocks": .array(blocks)])
    }

    /// `<!subteam^S…> <@U…>`: at most 10 of each (`MentionsInput`), ids of at most 64
    /// characters, so far within a text object's 3000.
    static func mentions(pinging pings: Pings) -> String {
        (pings.roles.map { "<!subteam^\($0)>" } + pings.users.map { "<@\($0)>" }).joined(separator: " ")
    }

    /// `*Name*` over the value, both escaped; the name at most as long as Discord's field names.
    private static func fieldText(_ field: (name: String, value: String)) -> JSONValue {
        let name = "*" + escaped(field.name, limit: DiscordMessage.Limit.fieldName) + "*\n"
        return mrkdwn(name + escaped(field.value, limit: Limit.fieldText - DiscordMessage.length(name)))
    }

    private static func shown(_ text: String) -> String {
        text.allSatisfy(\.isWhitespace) ? "—" : text
    }

    private static func plainText(_ text: String) -> JSONValue {
        .object(["type": .string("plain_text"), "text": .string(text), "emoji": .bool(true)])
    }

    /// Text written here, already escaped: Slack reads its control sequences and nothing else.
    private static func mrkdwn(_ text: String) -> JSONValue {
        .object(["type": .string("mrkdwn"), "text": .string(text), "verbatim": .bool(true)])
    }

    /// `text` with `&`, `<` and `>` as Slack's entities, at most `limit` scalars; a clipped text
    /// ends with "…" and never with half an entity.
    static func escaped(_ text: String, limit: Int) -> String {
        let pieces = text.unicodeScalars.map { scalar -> String in
            switch scalar {
            case "&": "&amp;"
            case "<": "&lt;"
            case ">": "&gt;"
            default: String(scalar)
            }
        }
        var budget = pieces.reduce(0) { $0 + DiscordMessage.length($1) } <= limit ? limit : limit - 1
        var result = ""
        for piece in pieces {
            budget -= DiscordMessage.length(piece)
            guard budget >= 0 else { return result + "…" }
            result += piece
        }
        return result
    }
}
