import FoundationEssentials

/// A server's status card (README "A status card per server"): the one message a `statusCard`
/// webhook keeps per server, edited in place on each event about it. Kept on the webhook by the
/// helper after Discord's answer, so a card's content is the kept state plus the event being
/// sent, whichever host sends it: sends to one webhook go one at a time, in queue order.
public struct StatusCard: Codable, Equatable, Sendable {
    /// The Discord message; nil until the card is posted.
    public var messageId: String?
    /// The server's status as the last event gave it.
    public var status: String?
    /// When the status became that (the event's timestamp).
    public var since: String
    /// The last events, oldest first, at most `recentLimit`.
    public var recent: [Recent]

    public struct Recent: Codable, Equatable, Sendable {
        public var event: String
        public var at: String
        /// The delivery's message (`Delivery.messageId`): a retry of it is not counted twice.
        public var message: String
    }

    public static let recentLimit = 5

    /// The card after `delivery`'s event; this card when the event is already on it (a retry).
    /// Events take their place by time and only a newer one sets the status, so an event sent
    /// late (retried while later ones went) never puts the card back on an older state.
    func after(_ delivery: Delivery) -> StatusCard {
        guard !recent.contains(where: { $0.message == delivery.messageId }) else { return self }
        var next = self
        let at = delivery.payload["timestamp"]?.stringValue ?? delivery.createdAt
        let added = Recent(event: delivery.event, at: at, message: delivery.messageId)
        let place = recent.lastIndex { !Self.isBefore(added.at, $0.at) }.map { $0 + 1 } ?? 0
        next.recent.insert(added, at: place)
        next.recent = Array(next.recent.suffix(Self.recentLimit))
        let status = Self.status(in: delivery.payload)
        if place == recent.count, status != self.status { (next.status, next.since) = (status, at) }
        return next
    }

    /// Whether timestamp `a` is earlier than `b` (either unreadable: not earlier).
    static func isBefore(_ a: String, _ b: String) -> Bool {
        guard let a = Timestamp.parse(a), let b = Timestamp.parse(b) else { return false }
        return a < b
    }

    /// The first card of a server, before any event.
    static func empty(for delivery: Delivery) -> StatusCard {
        StatusCard(
            messageId: nil, status: status(in: delivery.payload),
            since: delivery.payload["timestamp"]?.stringValue ?? delivery.createdAt, recent: [])
    }

    static func status(in payload: JSONValue) -> String? {
        if case .object(let server)? = payload["server"] { server["status"]?.stringValue } else { nil }
    }
}
