/// The body of a collapse window's message on Discord (README "Crash loops collapsed") once it
/// stands for more than one event: the latest event's message (`DiscordMessage`), titled with the
/// count and the window ("🔔 Server Crashed ×3 in 10 min"), with the first and the last event's
/// time first among its fields (Discord timestamps, shown in each reader's time zone). Its pings
/// are the event's, as the first message's were: Discord never pings on an edit.
public enum CollapsedMessage {
    public static func body(
        for payload: JSONValue, window sent: CollapsedSend, footer: String, pings: Pings = .none
    ) -> JSONValue {
        let window = sent.window
        let title = title(of: sent)
        return DiscordMessage.wrap(
            DiscordMessage.embed(
                title: DiscordMessage.clip(title, DiscordMessage.Limit.title), description: nil,
                colour: DiscordMessage.colour(for: sent.event),
                fields: [
                    ("First", StatusCardMessage.stamp(window.first, "f")),
                    ("Last", StatusCardMessage.stamp(window.last, "f")),
                ] + DiscordMessage.fields(of: payload),
                timestamp: .string(window.last), footer: footer),
            pings: pings)
    }

    /// "🔔 Server Crashed ×3 in 10 min": the event, how many the window stands for, and its
    /// length. Slack's summary has the same title.
    static func title(of sent: CollapsedSend) -> String {
        "\(DiscordMessage.title(for: sent.event)) ×\(sent.window.count) in \(duration(sent.windowSeconds))"
    }

    /// 600 → "10 min", 7200 → "2 h", 90 → "90 s".
    static func duration(_ seconds: Int) -> String {
        if seconds % 3600 == 0 { return "\(seconds / 3600) h" }
        if seconds % 60 == 0 { return "\(seconds / 60) min" }
        return "\(seconds) s"
    }
}
