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
            .map { webhook in
                Delivery(
                    id: Identifier.newUUID(), webhookId: webhook.id, userId: server.ownerId,
                    event: event, payload: payload, createdAt: timestamp)
            }
        let queued = try store.queue(Array(deliveries), userId: server.ownerId)
        return Emitted(eventId: Identifier.newUUID(), deliveries: queued.count)
    }
}
