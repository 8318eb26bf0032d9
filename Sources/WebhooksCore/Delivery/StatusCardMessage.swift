import FoundationEssentials

/// The body of a server's status card on Discord (README "A status card per server"): one embed
/// titled with the server's name, coloured as its latest event's message is (`DiscordMessage`'s
/// rule: that event is what set the status), with the status, since when (a Discord timestamp,
/// which each reader sees in their own time zone), and the last events, newest first. It pings
/// no one: mentions go on event messages. Clipped to Discord's limits as event messages are.
public enum StatusCardMessage {
    public static func body(for sent: ServerCard, footer: String) -> JSONValue {
        let card = sent.card
        let latest = card.recent.last
        let lines = card.recent.reversed().map { "\(DiscordMessage.title(for: $0.event)) — \(stamp($0.at, "t"))" }
        return DiscordMessage.wrap(
            DiscordMessage.embed(
                title: DiscordMessage.clip(sent.serverName, DiscordMessage.Limit.title), description: nil,
                colour: DiscordMessage.colour(for: latest?.event ?? ""),
                fields: [
                    ("Status", card.status ?? "—"), ("Since", stamp(card.since, "R")),
                    ("Last events", lines.joined(separator: "\n")),
                ],
                timestamp: .string(latest?.at ?? card.since), footer: footer))
    }

    /// `<t:1700000000:R>`: Discord shows it in the reader's time zone (`R` relative, `t` time of
    /// day); the text itself when it is no timestamp.
    static func stamp(_ timestamp: String, _ style: String) -> String {
        guard let date = Timestamp.parse(timestamp) else { return timestamp }
        return "<t:\(Int(date.timeIntervalSince1970)):\(style)>"
    }
}
