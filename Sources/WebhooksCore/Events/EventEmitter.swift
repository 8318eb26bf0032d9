import FoundationEssentials
import Glibc

/// Turns an event about a server into pending deliveries (docs/architecture.md: "A delivery"), for
/// `POST /events` and the `emit` command alike. Only the server's owner's webhooks are considered,
/// so an event can never reach anyone else.
public struct EventEmitter {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    public struct Emitted: Equatable {
        public var eventId: String
        public var deliveries: Int
    }

    /// `event` must be canonical. Every delivery is on disk before this returns.
    public func emit(_ event: String, server: Server, data: [String: JSONValue], now: Date) throws -> Emitted {
        let timestamp = Timestamp.format(now)
        let payload = JSONValue.object([
            "event": .string(event),
            "timestamp": .string(timestamp),
            "server": .object([
                "id": .string(server.id), "name": .string(server.name), "status": .string(server.status),
            ]),
            "data": .object(data),
        ])
        let deliveries = try store.webhooks(userId: server.ownerId)
            .filter { $0.receives(event, fromServer: server.id) }
            .reversed()  // oldest webhook first
            .flatMap { webhook in
                // A statusCard webhook's card is kept by a delivery of its own, after the event
                // message (none with statusCardOnly). Whether a collapsible message posts or
                // edits is up to its window when it is sent.
                var sends: [Delivery] = []
                if webhook.statusCardOnly != true {
                    var message = delivery(payload, of: event, to: webhook, at: timestamp)
                    if webhook.collapse?.events.contains(event) == true { message.collapsible = true }
                    sends.append(message)
                }
                if webhook.statusCard == true {
                    var card = delivery(payload, of: event, to: webhook, at: timestamp)
                    card.card = true
                    sends.append(card)
                }
                return sends
            }
        let queued = try store.queue(deliveries, userId: server.ownerId)
        return Emitted(eventId: Identifier.newUUID(), deliveries: queued.count)
    }

    private func delivery(_ payload: JSONValue, of event: String, to webhook: Webhook, at timestamp: String)
        -> Delivery
    {
        Delivery(
            id: Identifier.newUUID(), webhookId: webhook.id, userId: webhook.userId, event: event, payload: payload,
            createdAt: timestamp)
    }
}
