/// The status card a card delivery of a `statusCard` webhook sends (README "A status card per
/// server"): the server's kept card with the delivery's event on it, posted when the card has no
/// message yet and edited in place when it has. Read from the webhook when the delivery is sent,
/// so a delivery queued before its card was posted edits it.
public struct ServerCard: Equatable, Sendable {
    /// The key of the webhook's `cards`.
    public var serverId: String
    /// The card's title.
    public var serverName: String
    /// The card as this send shows it.
    public var card: StatusCard
    /// The webhook URL it is read for: card messages belong to the channel that URL posts to.
    public var url: String

    public var action: DeliveryAction { card.messageId == nil ? .post : .edit }
}

extension Webhook {
    /// The card a card delivery sends; nil for an event message, for a webhook that no longer
    /// keeps cards, and for an event about no server.
    public func card(for delivery: Delivery) -> ServerCard? {
        guard delivery.card == true, statusCard == true, case .object(let server)? = delivery.payload["server"],
            let id = server["id"]?.stringValue, !id.isEmpty
        else { return nil }
        let name = server["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? id
        let kept = cards?[id] ?? StatusCard.empty(for: delivery)
        return ServerCard(serverId: id, serverName: name, card: kept.after(delivery), url: url)
    }

    /// Keeps `sent` as its server's card, posted or edited as message `messageId`, unless the
    /// webhook no longer keeps cards or posts to another URL.
    public mutating func keep(_ sent: ServerCard, messageId: String) {
        guard statusCard == true, url == sent.url else { return }
        var card = sent.card
        card.messageId = messageId
        cards = (cards ?? [:]).merging([sent.serverId: card]) { $1 }
    }

    /// Forgets the message of `sent`'s card (Discord says it was deleted), so the next send posts
    /// a new one; its status and events stay. Unless another message was kept for it since.
    public mutating func forgetMessage(of sent: ServerCard) {
        guard let id = sent.card.messageId, cards?[sent.serverId]?.messageId == id else { return }
        cards?[sent.serverId]?.messageId = nil
    }
}
